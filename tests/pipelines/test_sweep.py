"""`loopline pipelines run --sweep`: each trial a tracked run with its params, run in
parallel on the local engine (processes) or on Ray; mistakes in the sweep stop it before any
trial runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from loopline.errors import InvalidInputError
from loopline.pipelines._sweep import load_sweep, parse_sweep, run_sweep
from loopline.store import open_metadata_store
from tests.batch.ray_cluster import ray_cluster
from tests.pipelines.cli import invoke
from tests.pipelines.conftest import Toy

__all__ = ["ray_cluster"]
# One worker holds the session's Ray cluster (make test runs the suite on 2 workers).
pytestmark = pytest.mark.xdist_group("ray")

# `seed` and `factor` change what the toy pipeline computes: each trial's report differs.
SWEEP = "grid:\n  seed: [1, 2]\n  factor: [2, 3]\ntrials:\n  - {seed: 9, factor: 5}\nparallel: 2\n"


def sweep_file(folder: Path, text: str = SWEEP) -> Path:
    path = folder / "sweep.yaml"
    path.write_text(text)
    return path


def test_grid_and_trials_expand_in_order(tmp_path: Path) -> None:
    sweep = load_sweep(sweep_file(tmp_path))
    assert sweep.trials == (
        {"seed": 1, "factor": 2},
        {"seed": 1, "factor": 3},
        {"seed": 2, "factor": 2},
        {"seed": 2, "factor": 3},
        {"seed": 9, "factor": 5},
    )
    assert sweep.parallel == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1, 2], "expected a mapping"),
        ({"grid": {"C": []}}, "non-empty list"),
        ({"grid": {"C": 1}}, "non-empty list"),
        ({"trials": "C=1"}, "list of param mappings"),
        ({}, "no trials"),
        ({"grid": {"C": [1]}, "parallel": 0}, "positive whole number"),
        ({"grid": {"C": [1]}, "paralel": 2}, "unknown key 'paralel'"),
        ({"grid": {"C": [1]}, "env": "HOME"}, "list of environment variable names"),
    ],
)
def test_bad_sweep_files_are_one_line(data: Any, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as exc:
        parse_sweep(data, "s.yaml")
    assert "\n" not in exc.value.one_line() and exc.value.one_line().startswith("sweep file")


def test_unknown_or_mistyped_params_fail_before_any_trial(toy: Toy, tmp_path: Path) -> None:
    spec = toy.write()
    with pytest.raises(InvalidInputError, match="trial 1: pipeline 'toy' has no param"):
        run_sweep(spec, parse_sweep({"trials": [{"seed": 1}, {"sed": 2}]}))
    with pytest.raises(InvalidInputError, match=r"trial 0: param seed='x' is not of"):
        run_sweep(spec, parse_sweep({"trials": [{"seed": "x"}]}))
    assert open_metadata_store().list_runs() == []
    assert toy.executed() == []


def test_the_engine_setting_applies_to_sweeps(toy: Toy, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = toy.write()
    monkeypatch.setenv("LOOPLINE_ENGINE", "dask")
    with pytest.raises(InvalidInputError, match="unknown compute engine 'dask'"):
        run_sweep(spec, parse_sweep({"trials": [{"seed": 1}]}))
    assert open_metadata_store().list_runs() == [] and toy.executed() == []


def check_runs(result: Any, trials: int) -> None:
    runs = open_metadata_store().list_runs(tag=[f"sweep={result.sweep_id}"])
    assert len(runs) == trials and result.ok
    by_id = {r.id: r for r in runs}
    for t in result.trials:
        run = by_id[t.run_id]
        assert run.status == "finished" and run.tags["sweep.trial"] == str(t.index)
        assert {k: run.params[k] for k in t.params} == {k: str(v) for k, v in t.params.items()}


def test_local_sweep_runs_each_trial_as_a_tracked_run_in_parallel(toy: Toy) -> None:
    spec = toy.write()
    sweep = parse_sweep({"grid": {"seed": [1, 2], "factor": [2, 3]}, "parallel": 2})
    seen: list[int] = []
    result = run_sweep(spec, sweep, on_trial=lambda t: seen.append(t.index))
    assert (result.engine, result.parallel, len(result.trials)) == ("local", 2, 4)
    assert sorted(seen) == [0, 1, 2, 3]
    check_runs(result, 4)
    # every trial computed its own `double` (factor differs); `make` depends on seed only,
    # so two trials may share it through the step cache (or both compute it, if concurrent)
    executed = toy.executed()
    assert executed.count("double") == 4 and 2 <= executed.count("make") <= 4


def test_a_failing_trial_is_recorded_and_the_others_finish(toy: Toy) -> None:
    spec = toy.write(
        toy_spec := """
name: toy
params: {n: 50, seed: 1, factor: 2, fail_times: 0}
steps:
  make: {run: steps:make, params: [n, seed], outputs: [data]}
  flaky: {run: steps:flaky, inputs: {data: make.data}, params: [fail_times], outputs: [n]}
"""
    )
    assert "flaky" in toy_spec
    result = run_sweep(spec, parse_sweep({"trials": [{"fail_times": 0}, {"fail_times": 9}]}))
    assert [t.status for t in result.trials] == ["finished", "failed"]
    assert result.trials[1].run_id is not None and "worker lost" in (result.trials[1].error or "")
    assert not result.ok


def test_cli_sweep_json_and_exit_code(toy: Toy, tmp_path: Path) -> None:
    toy.write()
    path = sweep_file(tmp_path, "trials:\n  - {seed: 3}\n  - {seed: 4}\n")
    result = invoke(
        "pipelines", "run", str(toy.folder), "--sweep", str(path), "--param", "factor=7", "--json"
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert [t["params"] for t in out["trials"]] == [
        {"factor": 7, "seed": 3},
        {"factor": 7, "seed": 4},
    ]
    assert out["ok"] and all(t["status"] == "finished" for t in out["trials"])
    bad = invoke("pipelines", "run", str(toy.folder), "--sweep", str(path), "--from", "stats")
    assert bad.exit_code == 2 and "does not combine with --from" in bad.output


def test_ray_sweep_gives_the_same_runs(toy: Toy, ray_cluster: Any) -> None:
    spec = toy.write()
    sweep = parse_sweep({"grid": {"seed": [1, 2]}, "trials": [{"factor": 4}], "env": ["TOY_LOG"]})
    result = run_sweep(spec, sweep, engine="ray")
    assert (result.engine, result.parallel) == ("ray", 2)
    check_runs(result, 3)
