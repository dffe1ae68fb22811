"""How the CLI prints: rich tables for people, `--json` for scripts, one line for errors.

Tables are designed for an 80-column terminal. Each column says how it gives way (`Col`):
identifiers and the value a listing is sorted by are never cut, free text wraps (between
words: a column is not squeezed below its longest word while the table fits), and low-value
columns are left out, highest `drop` first, until the rest fits; a note under the table names
them. `--wide` keeps every column unwrapped and lets the lines run past the terminal (for
`less -S` or a file).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from rich import box
from rich.cells import cell_len
from rich.console import Console, JustifyMethod, OverflowMethod
from rich.table import Table
from rich.text import Text

# The output options commands share (`--json` for scripts, `--wide` for every column).
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
WideOpt = Annotated[
    bool, typer.Option("--wide", help="Every column, unwrapped, however wide the terminal.")
]

# No emoji codes: a name or tag such as "stage:rocket:" prints as written, and Rich's emoji
# table (a few ms to import) stays unloaded.
console = Console(emoji=False)
err_console = Console(stderr=True, emoji=False)

# The narrowest a free-text column is squeezed to before other columns are dropped.
TEXT_MIN = 24


@dataclass(frozen=True)
class Col:
    """A table column and how it behaves when the terminal is narrow.

    key: an identifier or the value the table is sorted by: never cut, wrapped or dropped.
    text: free text (a reason, a message): wraps at spaces, at most `max_width` wide.
    drop: 0 keeps the column; above 0 it is left out when the table does not fit, the
    highest first (ties: the rightmost first).
    """

    header: str
    key: bool = False
    text: bool = False
    drop: int = 0
    max_width: int | None = None
    justify: JustifyMethod = "left"


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str, sort_keys=False) + "\n")


def _cell_width(value: str) -> int:
    return max((Text.from_markup(line).cell_len for line in value.split("\n")), default=0)


def _longest_word(values: Sequence[str]) -> int:
    return max((cell_len(w) for v in values for w in Text.from_markup(v).plain.split()), default=0)


def _fit(
    cols: Sequence[Col], cells: Sequence[Sequence[str]], width: int
) -> tuple[list[int], dict[int, int]]:
    """The columns to show (droppable ones go until the table fits `width`) and the
    narrowest each free-text column may be: its longest word (up to TEXT_MIN), so a rule id
    or a column name in a message wraps whole, when the table fits that way."""
    natural = [
        max([_cell_width(c.header), *(_cell_width(row[i]) for row in cells)])
        for i, c in enumerate(cols)
    ]
    need = [
        min(n, c.max_width or n, TEXT_MIN) if c.text else n
        for c, n in zip(cols, natural, strict=True)
    ]
    kept = list(range(len(cols)))
    # Highest drop first; among equals the rightmost, so the left-to-right reading survives.
    order = sorted((i for i, c in enumerate(cols) if c.drop > 0), key=lambda i: (-cols[i].drop, -i))
    for i in order:
        # Each column costs its content plus one space of padding each side and a divider.
        if sum(need[k] for k in kept) + 3 * len(kept) - 1 <= width:
            break
        kept.remove(i)
    words = {
        k: min(_longest_word([row[k] for row in cells]), need[k]) for k in kept if cols[k].text
    }
    floor = sum(words.get(k, need[k]) for k in kept) + 3 * len(kept) - 1
    return kept, words if floor <= width else {}


def table(
    title: str | None,
    columns: Sequence[str | Col],
    rows: Sequence[Sequence[Any]],
    fold: bool = False,
    wide: bool = False,
) -> None:
    """A rich table that fits the terminal (see the module docstring); `wide` shows it all.

    Plain string columns are values: kept whole while there is room, cut with an ellipsis
    as a last resort. `fold` makes them all free text (two-column key/value listings).
    """
    cols = [c if isinstance(c, Col) else Col(c, text=fold) for c in columns]
    cells = [["" if v is None else str(v) for v in row] for row in rows]
    kept, words = (list(range(len(cols))), {}) if wide else _fit(cols, cells, console.width)
    t = Table(header_style="bold", box=box.SIMPLE_HEAD, show_edge=False)
    for i in kept:
        c = cols[i]
        if wide or not c.text:
            # A key column is never cut: if even it cannot fit, it folds onto a second line.
            overflow: OverflowMethod = "fold" if c.key else "ellipsis"
            t.add_column(c.header, no_wrap=True, overflow=overflow, justify=c.justify)
        else:
            t.add_column(
                c.header,
                overflow="fold",
                min_width=words.get(i),
                max_width=c.max_width,
                justify=c.justify,
            )
    for row in cells:
        t.add_row(*(row[i] for i in kept))
    if wide:
        # As wide as the table needs (lines run past the terminal rather than wrap): a
        # console of that width on the same stream, as `print(width=)` caps at the terminal.
        natural = console.measure(t, options=console.options.update_width(10_000)).maximum
        out = Console(
            file=console.file,
            width=max(console.width, natural),
            color_system=console.color_system,  # type: ignore[arg-type]
            force_terminal=console.is_terminal,
            emoji=False,
        )
    else:
        out = console
    if title:  # above the table, not in it: a long title wraps at the terminal, not the table
        out.print(Text(title, style="table.title"))
    out.print(t)
    if len(kept) < len(cols):
        hidden = [c.header for i, c in enumerate(cols) if i not in kept]
        console.print(f"[dim]{_hidden_note(hidden, console.width)}[/dim]", highlight=False)


def _hidden_note(hidden: list[str], width: int) -> str:
    """`(hidden at 80 columns: took, f1 and 3 more; --wide shows them)`: as many names as
    fit one line of the terminal, so the note never wraps into the next command's output."""
    for named in range(min(len(hidden), 4), 0, -1):
        rest = len(hidden) - named
        names = ", ".join(hidden[:named]) + (f" and {rest} more" if rest else "")
        note = f"(hidden at {width} columns: {names}; --wide shows them)"
        if cell_len(note) <= width:
            return note
    return f"({len(hidden)} columns hidden; --wide shows them)"


def when(ts: float | None, short: bool = False) -> str:
    fmt = "%m-%d %H:%M" if short else "%Y-%m-%d %H:%M:%S"
    return "" if ts is None else time.strftime(fmt, time.localtime(ts))


def duration(start: float, end: float | None) -> str:
    seconds = (end if end is not None else time.time()) - start
    if seconds < 60:
        return f"{seconds:.1f}s"
    if seconds < 3600:
        return f"{seconds / 60:.1f}m"
    return f"{seconds / 3600:.1f}h"


def number(value: float, digits: int = 6) -> str:
    return f"{value:.{digits}g}"


STATUS_STYLE = {"running": "cyan", "finished": "green", "failed": "red", "lost": "yellow"}


def status(value: str) -> str:
    style = STATUS_STYLE.get(value, "white")
    return f"[{style}]{value}[/{style}]"
