"""`loopline models rollback MODEL [ALIAS] [--to-version N]` (issue 19): the alias after the
model, as `ll.rollback("churn", "production")` and README write it; last release's `--alias`
and `--to` still work with a one-line notice; two different values for one thing are refused.

In-process with Typer's CliRunner (one subprocess per call would re-import loopline each
time); the refusals also run as a real subprocess, for the exit code and the one error line.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from typer.testing import CliRunner, Result

import loopline as ll
from loopline.registry import get_version
from loopline.store import ModelVersion, open_metadata_store
from tests.conftest import run_cli

DEPRECATED = "is deprecated and goes in the next release"


def cli(*args: str) -> Result:
    from loopline.cli import app

    result = CliRunner().invoke(app, ["models", *args], env={"COLUMNS": "200"})
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result


def holder() -> int:
    return get_version("models:/churn@production").version


@pytest.fixture
def three_promotions(train_version: Callable[..., ModelVersion]) -> None:
    """churn v1, v2, v3 promoted to production in turn: v3 holds it, v2 held it before."""
    for _ in range(3):
        v = train_version()
        assert ll.promote("churn", v.version, "production").promoted


@pytest.mark.usefixtures("three_promotions")
def test_alias_after_the_model_moves_it_back_and_is_audited() -> None:
    out = cli("rollback", "churn", "production", "--reason", "INC-19").stdout
    assert "rolled back churn@production: v3 → v2" in out
    assert holder() == 2
    history = json.loads(cli("history", "churn", "--json").stdout)
    assert (history[-1]["action"], history[-1]["alias"], history[-1]["reason"]) == (
        "rollback",
        "production",
        "INC-19",
    )
    (event,) = [e for e in open_metadata_store().list_audit_events() if e.action == "rollback"]
    assert event.reason == "INC-19" and event.target_id.startswith("churn")

    moved = json.loads(cli("rollback", "churn", "production", "--to-version", "1", "--json").stdout)
    assert (moved["from_version"], moved["to_version"]) == (2, 1) and holder() == 1
    cli("rollback", "churn")  # no alias: production, back to the previous holder
    assert holder() == 2


@pytest.mark.usefixtures("three_promotions")
def test_old_spellings_still_work_with_one_notice_each() -> None:
    alias_only = cli("rollback", "churn", "--alias", "production")
    assert holder() == 2
    assert alias_only.stderr.strip().splitlines() == [
        f"warning: --alias {DEPRECATED}; pass the alias after the model instead"
    ]
    both_old = cli("rollback", "churn", "--alias", "production", "--to", "1")
    assert holder() == 1
    notices = both_old.stderr.strip().splitlines()
    assert len(notices) == 2 and all(DEPRECATED in line for line in notices)
    assert "pass --to-version instead" in notices[1]
    # The same value both ways is no conflict: it moves, and the old spelling is noted.
    same = cli("rollback", "churn", "production", "--alias", "production", "--to-version", "3")
    assert holder() == 3 and DEPRECATED in same.stderr


def test_help_shows_the_new_spellings_only() -> None:
    out = cli("rollback", "--help").stdout
    assert "rollback [OPTIONS] MODEL [ALIAS]" in out and "--to-version" in out
    assert "--alias" not in out and "--to " not in out


@pytest.mark.usefixtures("three_promotions")
def test_two_different_values_for_one_thing_are_one_line_exit_2() -> None:
    for args, said in (
        (("churn", "production", "--alias", "staging"), "--alias is staging"),
        (("churn", "--to-version", "1", "--to", "2"), "--to is 2"),
    ):
        p = run_cli("models", "rollback", *args)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert p.stderr.startswith("error:") and len(p.stderr.strip().splitlines()) == 1, p.stderr
        assert said in p.stderr and DEPRECATED not in p.stderr
    assert holder() == 3  # nothing moved
