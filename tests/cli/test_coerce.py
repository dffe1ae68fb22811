"""Loopline's Pydantic-free conversion of option values (cli/_coerce.py) gives what Typer's
own conversion gives: the same values for valid input, the same error for invalid input."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pytest
import typer
import typer.main

from loopline.cli._lazy import plain_help


def _command(quick: bool) -> Any:
    app = typer.Typer()

    @app.command()
    def sample(
        name: str,
        n: Annotated[int, typer.Option(min=1, max=10)] = 5,
        k: int = 3,
        x: float = 0.5,
        low: Annotated[float, typer.Option(min=0.1)] = 0.5,
        p: Path | None = None,
        tag: Annotated[list[str] | None, typer.Option("--tag")] = None,
        flag: bool = False,
    ) -> dict[str, Any]:
        return {"name": name, "n": n, "k": k, "x": x, "low": low, "p": p, "tag": tag, "f": flag}

    command = typer.main.get_command(app)
    # plain_help gives the command Loopline's parameter classes, which convert quickly.
    return plain_help(command) if quick else command


def _outcome(quick: bool, args: list[str]) -> Any:
    try:
        value = _command(quick).main(args, standalone_mode=False)
    except typer.BadParameter as exc:
        return ("error", exc.format_message())
    # Equal values of different types are different outcomes (5 vs 5.0); repr: nan == nan.
    return {k: (type(v).__name__, repr(v)) for k, v in value.items()}


CASES = [
    ["a"],
    [""],
    ["a", "--n", "7", "--k", "-3", "--x", "2"],
    ["a", "--n", "007"],
    ["a", "--k", "+5"],
    ["a", "--k", " 5"],
    ["a", "--k", "5.0"],
    ["a", "--k", "1_000"],
    ["a", "--k", "abc"],
    ["a", "--k", ""],
    ["a", "--n", "0"],
    ["a", "--n", "11"],
    ["a", "--n", "10"],
    ["a", "--x", "1e3"],
    ["a", "--x", ".5"],
    ["a", "--x", "5."],
    ["a", "--x", "-2.25"],
    ["a", "--x", "nan"],
    ["a", "--x", "inf"],
    ["a", "--x", "1_0.5"],
    ["a", "--x", "abc"],
    ["a", "--low", "0.05"],
    ["a", "--low", "0.1"],
    ["a", "--p", "some/file.csv"],
    ["a", "--p", "."],
    ["a", "--tag", "x", "--tag", "y"],
    ["a", "--tag", ""],
    ["a", "--flag"],
]


@pytest.mark.parametrize("args", CASES, ids=[" ".join(a) or "none" for a in CASES])
def test_quick_conversion_matches_typer(args: list[str]) -> None:
    assert _outcome(True, args) == _outcome(False, args)


def test_loopline_commands_have_no_option_typer_would_convert_differently() -> None:
    """Every Loopline parameter is of a kind the quick path handles (or it would silently
    fall back to Pydantic and its start-up cost)."""
    from loopline.cli import _Commands
    from loopline.cli._coerce import quick_runtime_param

    def walk(command: Any) -> list[str]:
        slow = [
            f"{command.name} {p.name}"
            for p in command.params
            if hasattr(p, "type_descriptor") and quick_runtime_param(p.type_descriptor) is None
        ]
        for sub in getattr(command, "commands", {}).values():
            slow += walk(sub)
        return slow

    for name, spec in _Commands.subcommands.items():
        assert walk(spec.load(name)) == [], name


def test_a_path_option_keeps_typer_checks(tmp_path: Path) -> None:
    app = typer.Typer()

    @app.command()
    def sample(p: Annotated[Path, typer.Option(exists=True, dir_okay=False)]) -> Path:
        return p

    command = plain_help(typer.main.get_command(app))
    missing = tmp_path / "nope.csv"
    with pytest.raises(typer.BadParameter, match="does not exist"):
        command.main(["--p", str(missing)], standalone_mode=False)
    with pytest.raises(typer.BadParameter, match="is a directory"):
        command.main(["--p", str(tmp_path)], standalone_mode=False)
    missing.write_text("a\n")
    assert command.main(["--p", str(missing)], standalone_mode=False) == missing
