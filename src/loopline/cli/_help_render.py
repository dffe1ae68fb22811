"""Typer's help renderer without the two rich modules it imports but Loopline never uses.

`typer.rich_utils` draws every --help screen. At import it takes `Markdown` from
rich.markdown (markdown-it-py and Pygments behind it: for `rich_markup_mode="markdown"`,
which Loopline does not use) and `Traceback` from rich.traceback (attrs behind it: for
pretty exceptions, which Loopline turns off). Those two were about a third of
`loopline --help`. `load()` imports rich_utils with stand-ins for both that build the real
object on first use, then takes the stand-ins out of `sys.modules`, so any later import of
rich.markdown or rich.traceback gets the real module. tests/cli/test_startup.py checks that
help imports neither and that the stand-ins still build the real objects.
"""

from __future__ import annotations

import sys
import types
from typing import Any


class _Markdown:
    """Builds rich.markdown.Markdown, importing it on first use."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        from rich.markdown import Markdown

        return Markdown(*args, **kwargs)


class _Traceback:
    """Stands for rich.traceback.Traceback: `from_exception` imports the real one."""

    @classmethod
    def from_exception(cls, *args: Any, **kwargs: Any) -> Any:
        from rich.traceback import Traceback

        return Traceback.from_exception(*args, **kwargs)


_STAND_INS = {"rich.markdown": ("Markdown", _Markdown), "rich.traceback": ("Traceback", _Traceback)}


def load() -> None:
    """Import typer.rich_utils (before Typer does, when it first prints help) with the
    stand-ins; a no-op once it is imported."""
    if "typer.rich_utils" in sys.modules:
        return
    placed = []
    for module, (name, stand_in) in _STAND_INS.items():
        if module not in sys.modules:  # already imported for real: rich_utils takes that
            stub = types.ModuleType(module)
            setattr(stub, name, stand_in)
            sys.modules[module] = stub
            placed.append(module)
    try:
        import typer.rich_utils  # noqa: F401
    finally:
        for module in placed:
            del sys.modules[module]


__all__ = ["load"]
