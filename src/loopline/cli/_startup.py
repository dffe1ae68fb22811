"""Garbage collection in a `loopline` process: off while it starts, frozen when it exits.

Before a command does any work it creates tens of thousands of long-lived objects (the
modules, classes and functions of Typer, Rich, SQLAlchemy, the store schema), none of which
is ever garbage. The collector, run on allocation counts, still traverses them again and
again while they load, and once more, in full, as the interpreter exits: on `loopline runs
list`, about 25 ms of start-up and 70 ms at exit, of about 450 ms (docs/decisions.md).

- `begin()`, from `main`: no collection while Typer parses the command line and imports the
  command's module.
- `command_starts()`, just before a command's callback: what exists so far moves to the
  permanent generation (`gc.freeze`: never traversed again, never freed, and it is all alive
  for the whole process anyway) and collection resumes, so a long-running command (serve,
  scheduler, run) collects as usual.
- At exit (an atexit hook registered first, so it runs after every other one): the open
  stores are closed, which the final collection used to do (SQLite then checkpoints and
  removes its -wal file), and everything is frozen, which leaves that collection nothing to
  traverse. Files and temporary folders are closed by `with` blocks and `weakref.finalize`
  hooks, not by that collection.

Only the `loopline` process does this: `app` run in-process (tests) keeps the defaults.
"""

from __future__ import annotations

import atexit
import gc
import sys

_starting = False


def begin() -> None:
    """Collection off until `command_starts`; the exit hook registered (first)."""
    global _starting
    atexit.register(_at_exit)
    if gc.isenabled():
        gc.disable()
        _starting = True


def command_starts() -> None:
    """Start-up objects frozen, collection back on (once; a no-op outside `main`)."""
    global _starting
    if _starting:
        _starting = False
        gc.freeze()
        gc.enable()


def _at_exit() -> None:
    store = sys.modules.get("loopline.store")
    if store is not None:
        store.reset_store_cache()
    gc.freeze()


__all__ = ["begin", "command_starts"]
