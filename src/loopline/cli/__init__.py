"""The `loopline` command: one module per noun, thin over the library.

User mistakes (`LooplineError`) print one line and exit with code 2; anything else is a bug
and keeps its traceback.
"""

from __future__ import annotations

import json
from typing import Annotated, ClassVar

import typer

from loopline._version import __version__
from loopline.cli._lazy import Lazy, LazyGroup
from loopline.errors import LooplineError


class _Commands(LazyGroup):
    # name → where it lives and its help line, in `loopline --help` order. Each module is
    # imported only when its command runs (or prints its own help): see _lazy.py.
    subcommands: ClassVar[dict[str, Lazy]] = {
        "serve": Lazy(
            "loopline.cli._serve:serve",
            "Serve a registered model over HTTP (MLflow /invocations, OIP v2, /metrics).",
        ),
        "run": Lazy(
            "loopline.cli._pipelines:run",
            "Run a pipeline: unchanged steps come from cache; exits 1 if a step failed or a "
            "gate refused the candidate. With --sweep, run it once per param set, in parallel.",
        ),
        "scheduler": Lazy(
            "loopline.cli._pipelines:scheduler",
            "Run pipelines when their schedule, a drift/performance retrain request or a new "
            "dataset version says so. In-process; stop it with Ctrl-C.",
        ),
        "diagram": Lazy(
            "loopline.cli._pipelines:diagram",
            "Draw the pipeline and its deployment flow from the spec the runner uses.",
        ),
        "dora": Lazy(
            "loopline.cli._dora:dora",
            "Deployment frequency, lead time, change failure rate and time to restore, per "
            "model and per week, plus drift-to-production time, retrain cadence and gate "
            "rejections.",
        ),
        "score": Lazy(
            "loopline.cli._score:score",
            "Score a file with a model, in chunks: the output keeps the id columns and adds "
            "prediction, probability and model_version. Nothing is written if any row fails.",
        ),
        "server": Lazy(
            "loopline.cli._server:server",
            "Run the team server: the REST API under /api/v1 (OpenAPI at /openapi.json).",
        ),
        "ui": Lazy(
            "loopline.cli._ui:ui",
            "Open the web UI over the local store: the loop at a glance (no login: you own it).",
        ),
        "version": Lazy("loopline.cli:version", "Print Loopline's version."),
        "runs": Lazy("loopline.cli._runs:app", "Tracked runs: list, show one, compare several."),
        "data": Lazy(
            "loopline.cli._data:app", "Data contracts, validation, profiles and dataset versions."
        ),
        "models": Lazy(
            "loopline.cli._models:app", "The model registry: versions, aliases, gates, rollback."
        ),
        "audit": Lazy("loopline.cli._audit:app", "The tamper-evident audit log."),
        "deploy": Lazy(
            "loopline.cli._deploy:app", "Roll a version out: canary, shadow, blue-green, A/B."
        ),
        "ci": Lazy("loopline.cli._ci:app", "CI/CD: workflow templates derived from loopline.yaml."),
        "report": Lazy("loopline.cli._ci:report_app", "Reports for reviewers."),
        "monitor": Lazy(
            "loopline.cli._monitor:app",
            "Drift, delayed-label performance, SLOs, alerts and retrain triggers.",
        ),
        "tokens": Lazy("loopline.cli._server:tokens", "API tokens for the team server."),
        "llm": Lazy(
            "loopline.cli._llm:app",
            "LLMOps: prompt registry, evals, gates, canaries, traces, retrieval.",
        ),
        "experiments": Lazy("loopline.cli:experiments", "Experiments group runs."),
        "db": Lazy("loopline.cli:db", "The metadata store's schema."),
    }


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
    from loopline.cli._output import print_json, table, when

    exps = store(reap=False).list_experiments()
    if as_json:
        print_json([e.__dict__ for e in exps])
        return
    table(
        None,
        ["id", "name", "runs", "created"],
        [[e.id, e.name, e.run_count, when(e.created_at)] for e in exps],
    )


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply schema migrations (also done automatically on first use)."""
    from loopline.cli._context import settings
    from loopline.store._engine import create_engine
    from loopline.store._migrate import ensure_schema

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
