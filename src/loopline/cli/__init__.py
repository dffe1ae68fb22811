"""The `loopline` command: one module per noun, thin over the library.

User mistakes (`LooplineError`) print one line and exit with code 2; anything else is a bug
and keeps its traceback.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, ClassVar

import typer

from loopline._version import __version__
from loopline.cli._deprecated import renamed
from loopline.cli._lazy import Lazy, LazyGroup
from loopline.errors import LooplineError


class _Commands(LazyGroup):
    # name → where it lives and its help line, in `loopline --help` order (the loop's
    # order, then administration). Each module is imported only when its command runs (or
    # prints its own help): see _lazy.py. Names are plural nouns (docs/vocabulary.md).
    subcommands: ClassVar[dict[str, Lazy]] = {
        "data": Lazy(
            "loopline.cli._data:app", "Data contracts, validation, profiles and dataset versions."
        ),
        "runs": Lazy("loopline.cli._runs:app", "Tracked runs: list, show one, compare several."),
        "experiments": Lazy("loopline.cli:experiments", "Experiments group runs."),
        "models": Lazy(
            "loopline.cli._models:app",
            "The model registry: versions, aliases, gates, rollback; serve a model over HTTP.",
        ),
        "deployments": Lazy(
            "loopline.cli._deploy:app", "Roll a version out: canary, shadow, blue-green, A/B."
        ),
        "monitors": Lazy(
            "loopline.cli._monitor:app",
            "Drift, delayed-label performance, SLOs, alerts and retrain triggers.",
        ),
        "pipelines": Lazy(
            "loopline.cli._pipelines:app",
            "Pipelines from loopline.yaml: run, schedule, diagram, CI workflow.",
        ),
        "reports": Lazy(
            "loopline.cli._reports:app",
            "Reports: the pull-request comment, DORA's four keys and model health.",
        ),
        "prompts": Lazy(
            "loopline.cli._llm:app",
            "LLM prompts: registry, evals, gates, canaries, traces and feedback.",
        ),
        "indexes": Lazy(
            "loopline.cli._llm:index_app", "Retrieval indexes: build, register, evaluate."
        ),
        "score": Lazy(
            "loopline.cli._score:score",
            "Score a file with a model, in chunks: the output keeps the id columns and adds "
            "prediction, probability and model_version. Nothing is written if any row fails.",
        ),
        "audit": Lazy("loopline.cli._audit:app", "The tamper-evident audit log."),
        "tokens": Lazy("loopline.cli._server:tokens", "API tokens for the team server."),
        "server": Lazy(
            "loopline.cli._server:server",
            "Run the team server: the REST API under /api/v1 (OpenAPI at /openapi.json) and "
            "the web UI; with --local, the UI alone over the local store, no login.",
        ),
        "db": Lazy("loopline.cli:db", "The metadata store's schema."),
        "version": Lazy("loopline.cli:version", "Print Loopline's version."),
    }

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        # Last release's spellings (`deploy`, `run PIPELINE`, `llm`…) become the new ones
        # here, with a one-line notice, before anything is parsed: see _deprecated.py.
        return super().parse_args(ctx, renamed(args))


app = typer.Typer(
    name="loopline",
    cls=_Commands,
    help="Loopline: validate → train → register → gate → deploy → monitor, with the evidence.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
# The root needs a callback to stay a group (a Typer with no commands of its own is not one).
app.callback()(lambda: None)

experiments = typer.Typer(help="Experiments group runs.", no_args_is_help=True)
db = typer.Typer(help="The metadata store's schema.", no_args_is_help=True)


@experiments.command("list")
def experiments_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every experiment with its number of runs."""
    from loopline.cli._context import store
    from loopline.cli._output import Col, print_json, table, when

    exps = store(reap=False).list_experiments()
    if as_json:
        print_json([e.__dict__ for e in exps])
        return
    table(
        None,
        [Col("id", key=True), Col("name", key=True), Col("runs", key=True), Col("created")],
        [[e.id, e.name, e.run_count, when(e.created_at)] for e in exps],
    )


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply schema migrations (also done automatically on first use)."""
    from loopline.cli._context import settings
    from loopline.store.sql import create_engine, ensure_schema

    s = settings()
    engine = create_engine(s.db_url)
    try:
        head = ensure_schema(engine, s.db_url)
    finally:
        engine.dispose()
    print(f"metadata store {s.db_url} is at schema revision {head}")


def version(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Print Loopline's version."""
    if as_json:
        print(json.dumps({"loopline": __version__}))
    else:
        print(f"loopline {__version__}")


def main() -> None:
    """Console-script entry point."""
    from loopline.cli import _startup

    _startup.begin()  # garbage collection off while the command starts (see _startup.py)
    try:
        app()
    except LooplineError as exc:
        from loopline.cli._output import err_console

        err_console.print(f"[red]error:[/red] {exc.one_line()}", highlight=False, soft_wrap=True)
        raise SystemExit(2) from None


__all__ = ["app", "main"]
