"""Seconds (docs/vocabulary.md §13): Python names them with `_s` (`step_duration_s`,
`window_s`); in the CLI every option that takes seconds says "seconds" in its help, whatever
its name (`--step-duration`, `--interval`, `--window-s`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import typer.main

from loopline.cli import app

# An option takes seconds when its name says a time span without another unit (`-ms`,
# `--days` and duration strings such as `--window 6h` say their unit themselves).
SECONDS_NAME = re.compile(r"(-s|duration|interval)$")


def commands(group: Any, ctx: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    if not hasattr(group, "list_commands"):
        yield " ".join(path), group
        return
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield from commands(command, type(ctx)(command, parent=ctx), (*path, name))


def test_every_option_that_takes_seconds_says_seconds() -> None:
    root = typer.main.get_command(app)
    found = {}
    for path, command in commands(root, root.context_class(root)):
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--") and SECONDS_NAME.search(opt) and not param.hidden:
                    found[f"{path} {opt}"] = param.help or ""
    assert {
        "deployments start --step-duration",
        "pipelines schedule --interval",
        "prompts canary --step-duration",
        "prompts traces --since-s",
        "prompts check --window-s",
    } <= found.keys()
    silent = {option: said for option, said in found.items() if "second" not in said.lower()}
    assert silent == {}
