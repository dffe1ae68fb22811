"""Render a `loopline` command at a terminal width and check what its tables show whole.

Commands run in-process with Typer's CliRunner (a subprocess per render would take
minutes). Rich reads COLUMNS once, when the console is made, so the console's width is set
directly for the call. Every table the command draws is recorded (its headers and the cells
it was given), so a test can say which columns must reach the screen whole: each such cell
of a row on one line, in column order, neither cut with "…" nor folded.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text
from typer.testing import CliRunner

from loopline.cli import _output, app


@dataclass
class Drawn:
    """The tables one command drew: their headers and the cells of each row, as plain text."""

    tables: list[tuple[list[str], list[list[str]]]] = field(default_factory=list)
    # Lines printed with soft_wrap: one long line left to the terminal to wrap, on purpose
    # (a message to read or copy whole), so not held to the width.
    soft: list[str] = field(default_factory=list)

    def headers(self) -> set[str]:
        return {h for names, _ in self.tables for h in names}


@contextmanager
def _recording(width: int) -> Iterator[Drawn]:
    drawn = Drawn()

    class RecordingTable(Table):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self._headers: list[str] = []
            self._recorded: list[list[str]] = []
            super().__init__(*args, **kwargs)
            drawn.tables.append((self._headers, self._recorded))

        def add_column(self, header: Any = "", *args: Any, **kwargs: Any) -> None:
            super().add_column(header, *args, **kwargs)
            self._headers.append(str(header))

        def add_row(self, *cells: Any, **kwargs: Any) -> None:
            super().add_row(*cells, **kwargs)
            self._recorded.append([Text.from_markup(str(c)).plain for c in cells])

    printer = _output.console.print

    def recording_print(*objects: Any, **kwargs: Any) -> None:
        if kwargs.get("soft_wrap"):
            drawn.soft += [Text.from_markup(str(o)).plain for o in objects]
        printer(*objects, **kwargs)

    saved = _output.console._width  # rich's own override slot (None: follow the terminal)
    _output.console.width = width
    try:
        with (
            mock.patch.object(_output, "Table", RecordingTable),
            mock.patch.object(_output.console, "print", recording_print),
        ):
            yield drawn
    finally:
        _output.console._width = saved


def render(
    width: int,
    *args: str,
    whole: Collection[str] = (),
    codes: Collection[int] = (0,),
    env: dict[str, str] | None = None,
) -> str:
    """`loopline *args` at `width` columns: its output, after checking that no line is wider
    than the terminal (but those printed with soft_wrap) and that every column named in
    `whole` is shown, each of its cells whole on its row's line (the first line of a
    multi-line cell). When a column was left out for want of room, the same command with
    `--wide` must show it."""
    environ = {"COLUMNS": str(width), **(env or {})}
    with _recording(width) as drawn:
        result = CliRunner().invoke(app, list(args), env=environ)
    out = result.output
    assert result.exit_code in codes, (args, out, result.exception)
    # stdout: an error line on stderr may hold a path longer than any terminal.
    too_wide = [
        line
        for line in result.stdout.splitlines()
        if cell_len(line) > width and not any(line.strip() in soft for soft in drawn.soft)
    ]
    assert not too_wide, (args, width, too_wide)
    assert_whole(out, drawn, whole, args)
    if "--wide shows them" in out:  # the command has the flag the note names, and it works
        with _recording(width):
            wide = CliRunner().invoke(app, [*args, "--wide"], env=environ)
        assert wide.exit_code in codes and "hidden" not in wide.output, (args, wide.output)
    return out


def assert_whole(out: str, drawn: Drawn, whole: Collection[str], args: tuple[str, ...]) -> None:
    missing = set(whole) - drawn.headers()
    assert not missing, f"{args}: columns {sorted(missing)} not shown in\n{out}"
    lines = out.splitlines()
    for headers, rows in drawn.tables:
        at = [i for i, h in enumerate(headers) if h in whole]
        for row in rows:
            cells = [row[i].split("\n")[0] for i in at if row[i]]
            assert any(_in_order(line, cells) for line in lines), (
                f"{args}: {cells} ({[headers[i] for i in at]}) not whole on one line of\n{out}"
            )


def _in_order(line: str, cells: list[str]) -> bool:
    start = 0
    for cell in cells:
        found = line.find(cell, start)
        if found < 0:
            return False
        start = found + len(cell)
    return True


def words(out: str) -> set[str]:
    return {w.strip(",()") for line in out.splitlines() for w in line.split()}
