"""`loopline models promote|gate MODEL VERSION [ALIAS]` (docs/vocabulary.md §7, issue 19): the
alias is the positional after the version; last release's `--to ALIAS` works one more release,
hidden from the help, with one deprecation line on stderr naming the positional form.

In-process with Typer's CliRunner, as tests/cli/test_rollback_cli.py does."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from typer.testing import CliRunner, Result

from loopline.errors import InvalidInputError
from loopline.registry import get_version
from loopline.store import ModelVersion

NOTICE = (
    "warning: --to is deprecated and goes in the next release; "
    "pass the alias after the version instead"
)


def cli(*args: str, code: int = 0) -> Result:
    from loopline.cli import app

    result = CliRunner().invoke(app, ["models", *args], env={"COLUMNS": "200"})
    assert result.exit_code == code, (args, result.output, result.exception)
    return result


@pytest.fixture
def two_versions(train_version: Callable[..., ModelVersion]) -> None:
    train_version()
    train_version()


@pytest.mark.usefixtures("two_versions")
def test_the_positional_alias_prints_no_notice() -> None:
    done = cli("promote", "churn", "1", "staging")
    assert "promoted churn/1 to @staging" in done.stdout
    assert done.stderr == ""
    assert get_version("models:/churn@staging").version == 1


@pytest.mark.usefixtures("two_versions")
@pytest.mark.parametrize("command", ["promote", "gate"])
def test_to_still_works_with_one_line_naming_the_positional_form(command: str) -> None:
    done = cli(command, "churn", "2", "--to", "staging")
    assert done.stderr.strip().splitlines() == [NOTICE]
    if command == "promote":
        assert get_version("models:/churn@staging").version == 2
    else:
        assert "gate passed for churn/2 @staging" in done.stdout
    same = cli(command, "churn", "1", "qa", "--to", "qa")  # the same alias twice: no conflict
    assert same.stderr.strip().splitlines() == [NOTICE]


@pytest.mark.usefixtures("two_versions")
def test_an_alias_and_a_different_to_are_refused_before_anything_moves() -> None:
    # In-process the error propagates; `loopline` prints it as one line, exit 2
    # (tests/cli/test_vocabulary.py runs that as a subprocess).
    refused = cli("promote", "churn", "1", "staging", "--to", "production", code=1)
    assert isinstance(refused.exception, InvalidInputError)
    assert refused.exception.message == (
        "the alias after the version is staging but --to is production"
    )
    assert NOTICE not in refused.output
    cli("promote", "churn", "1", "production")  # production exists only after this
    assert get_version("models:/churn@production").version == 1


@pytest.mark.parametrize("command", ["promote", "gate"])
def test_help_shows_the_positional_alias_only(command: str) -> None:
    out = cli(command, "--help").stdout
    assert f"{command} [OPTIONS] MODEL VERSION [ALIAS]" in out
    assert "--to" not in out
