"""How the CLI prints: rich tables for people, `--json` for scripts, one line for errors."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

console = Console()
err_console = Console(stderr=True)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str, sort_keys=False) + "\n")


def table(
    title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]], fold: bool = False
) -> None:
    """A rich table; cells are cut with an ellipsis on narrow terminals unless `fold`."""
    t = Table(
        title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD, show_edge=False
    )
    for col in columns:
        t.add_column(col, overflow="fold" if fold else "ellipsis", no_wrap=not fold)
    for row in rows:
        t.add_row(*("" if v is None else str(v) for v in row))
    console.print(t)


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
