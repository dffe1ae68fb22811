"""The stores a CLI command works on, opened once per invocation.

The store modules (SQLAlchemy, the schema) are imported when a command first asks for a
store, so `loopline <noun> --help` never loads them.

Read-only commands never create a store: run outside a project, a listing says where it
looked and exits 0 (there is nothing to list), a command asking for one object exits 2.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from loopline.config import Settings
    from loopline.store import MetadataStore

# Commands (by their path under `loopline`, new spellings: old ones are rewritten before
# they run, see _deprecated.py) that only read the store.
_LISTINGS = {
    ("experiments", "list"),
    ("runs", "list"),
    ("models", "list"),
    ("deployments", "list"),
    ("data", "versions"),
    ("reports", "dora"),
    ("monitors", "alerts"),
    ("monitors", "retrains"),
    ("tokens", "list"),
}
_LOOKUPS = {
    ("runs", "show"),
    ("runs", "compare"),
    ("models", "show"),
    ("models", "history"),
    ("models", "evaluations"),
    ("models", "card"),
    ("deployments", "status"),
    ("models", "policy", "show"),
    ("models", "lineage"),
    ("monitors", "slo"),
    ("monitors", "report"),
    ("monitors", "performance"),
    ("monitors", "skew"),
    ("audit", "verify"),
    ("audit", "export"),
    ("prompts", "show"),
    ("prompts", "diff"),
}


def settings() -> Settings:
    from loopline.config import load_settings

    return load_settings()


def command_path() -> tuple[str, ...]:
    """The running command's names under `loopline`, e.g. ("runs", "list"); () outside
    a command (the library, tests calling functions directly)."""
    import importlib

    try:  # Typer 0.29 runs commands on its own copy of Click, with its own context stack
        click_globals = importlib.import_module("typer._click.globals")
    except ImportError:  # pragma: no cover - a Typer that runs on Click itself
        click_globals = importlib.import_module("click.globals")
    ctx = click_globals.get_current_context(silent=True)
    names: list[str] = []
    while ctx is not None and ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return tuple(reversed(names))


def store(reap: bool = True) -> MetadataStore:
    """The metadata store; by default first marks runs whose process died as failed/lost.

    A read-only command (`_LISTINGS`, `_LOOKUPS`) does not create a missing store."""
    import typer

    from loopline.cli._output import console
    from loopline.config import load_settings
    from loopline.store import MAX_RUNS_PAGE, NoStoreError, open_metadata_store

    s = load_settings()
    path = command_path()
    try:
        meta = open_metadata_store(s, create=path not in _LISTINGS | _LOOKUPS)
    except NoStoreError as exc:
        if path in _LISTINGS:
            console.print(exc.message, highlight=False, soft_wrap=True)
            raise typer.Exit(0) from None
        raise
    if reap:
        # Most calls find no run running: the tracking package (~7 ms to import) is loaded
        # only when there is one to judge.
        running = meta.list_runs(status="running", limit=MAX_RUNS_PAGE)
        if running:
            from loopline.tracking._liveness import reap_stale_runs

            reap_stale_runs(meta, s.lost_after_s, running)
    return meta
