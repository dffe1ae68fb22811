"""Help text reaches the screen whole: Rich reads `[...]` in a help string as a style tag and
drops it, so "[default: 8000]" or "pip install 'loopline[ray]'" vanished from --help (issue 20).
Every option's and argument's help, on every command, must render as its author wrote it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer.main
from rich.text import Text
from typer.core import TyperGroup

from loopline.cli import app
from tests._cli import run_cli


def _commands(group: TyperGroup, ctx: Any) -> Iterator[tuple[str, Any]]:
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        yield f"{ctx.info_name} {name}", command
        if isinstance(command, TyperGroup):
            yield from _commands(command, type(ctx)(command, info_name=name, parent=ctx))


def test_every_help_string_renders_as_written() -> None:
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    lost = []
    for where, command in _commands(
        root, root.make_context("loopline", [], resilient_parsing=True)
    ):
        for param in command.params:
            written = getattr(param, "help", None) or ""
            shown = Text.from_markup(written).plain
            if shown != written.replace("\\[", "["):
                lost.append(f"{where} {param.name}: {written!r} shows as {shown!r}")
    assert not lost, "\n".join(lost)


def test_defaults_in_brackets_are_on_the_screen() -> None:
    result = run_cli("server", "--help", env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    assert "[default: 8000; with --local 8001]" in result.stdout
    result = run_cli("score", "--help", env={"COLUMNS": "200"})
    assert "pip install 'loopline[ray]'" in result.stdout
