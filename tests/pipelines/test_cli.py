"""`loopline pipelines run`, `pipelines schedule` and `loopline reports pr` as a user types them."""

from __future__ import annotations

import json

import pytest

from loopline.cli._pipelines import parse_params
from loopline.errors import InvalidInputError
from tests.pipelines.cli import invoke
from tests.pipelines.conftest import SPEC, Toy


def test_run_shows_each_step_then_says_cached(toy: Toy) -> None:
    toy.write()
    first = invoke("pipelines", "run", str(toy.folder))
    assert first.exit_code == 0, first.output
    assert "✓ make ok" in first.output and "promotion none" in first.output
    assert "details: loopline runs show" in first.output
    again = invoke("pipelines", "run", str(toy.folder), "--param", "n=50")
    assert again.exit_code == 0
    assert again.output.count("cached") >= 4 and "↺ report cached" in again.output
    changed = invoke("pipelines", "run", str(toy.folder), "-p", "factor=3", "--json")
    data = json.loads(changed.output)
    assert {s["name"]: s["status"] for s in data["steps"]}["double"] == "ok"


def test_a_failed_step_exits_1_and_a_mistake_exits_2(toy: Toy) -> None:
    toy.write(SPEC + "  bad: {run: steps:boom, inputs: {data: make.data}, outputs: [x]}\n")
    failed = invoke("pipelines", "run", str(toy.folder))
    assert failed.exit_code == 1
    assert "✗ bad failed" in failed.output and "ValueError: boom" in failed.output
    wrong = invoke("pipelines", "run", str(toy.folder), "--param", "nope=1")
    assert wrong.exit_code == 2 and "error: pipeline 'toy' has no param(s) nope" in wrong.output
    missing = invoke("pipelines", "run", str(toy.folder / "absent.yaml"))
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_params_take_the_type_of_their_default(toy: Toy) -> None:
    spec = toy.write(
        SPEC.replace("params: {", "params: {name: x, on: false, extra: null, C: 0.5, ")
    )
    got = parse_params(spec, ["n=7", "factor=2.5", "name=007", "on=true", "extra=[1, 2]", "C=1"])
    assert got == {"n": 7, "factor": 2.5, "name": "007", "on": True, "extra": [1, 2], "C": 1.0}
    assert isinstance(got["C"], float)
    with pytest.raises(InvalidInputError, match="expected a number"):
        parse_params(spec, ["n=seven"])
    with pytest.raises(InvalidInputError, match="expected true or false"):
        parse_params(spec, ["on=maybe"])
    with pytest.raises(InvalidInputError, match="is not key=value"):
        parse_params(spec, ["n"])


def test_scheduler_once_runs_what_is_due(toy: Toy) -> None:
    toy.write(SPEC + "schedule: '* * * * *'\n")
    result = invoke("pipelines", "schedule", str(toy.folder), "--once")
    assert result.exit_code == 0, result.output
    assert "watching toy" in result.output and "toy: starting (schedule" in result.output
    assert "finished; promotion none" in result.output
    assert "nothing due" in invoke("pipelines", "schedule", str(toy.folder), "--once").output


def test_report_pr_without_runs_is_a_one_line_error(toy: Toy) -> None:
    toy.write()
    result = invoke("reports", "pr", str(toy.folder))
    assert result.exit_code == 2 and "has no runs yet" in result.output
