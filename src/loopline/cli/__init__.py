"""The `loopline` command: one module per noun, thin over the library.

User mistakes (`LooplineError`) print one line and exit with code 2; anything else is a bug
and keeps its traceback.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from loopline._version import __version__
from loopline.cli import (
    _audit,
    _ci,
    _data,
    _deploy,
    _dora,
    _llm,
    _models,
    _monitor,
    _pipelines,
    _runs,
    _score,
    _serve,
    _server,
    _ui,
)
from loopline.cli._output import err_console, print_json, table, when
from loopline.errors import LooplineError

app = typer.Typer(
    name="loopline",
    help="Loopline: validate → train → register → gate → deploy → monitor, with the evidence.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(_runs.app, name="runs")
app.add_typer(_data.app, name="data")
app.add_typer(_models.app, name="models")
app.add_typer(_audit.app, name="audit")
app.command("serve")(_serve.serve)
app.add_typer(_deploy.app, name="deploy")
app.command("run")(_pipelines.run)
app.command("scheduler")(_pipelines.scheduler)
app.command("diagram")(_pipelines.diagram)
app.add_typer(_ci.app, name="ci")
app.add_typer(_ci.report_app, name="report")
app.command("dora")(_dora.dora)
app.add_typer(_monitor.app, name="monitor")
app.command("score")(_score.score)
app.command("server")(_server.server)
app.add_typer(_server.tokens, name="tokens")
app.add_typer(_llm.app, name="llm")
app.command("ui")(_ui.ui)

experiments = typer.Typer(help="Experiments group runs.", no_args_is_help=True)
app.add_typer(experiments, name="experiments")
db = typer.Typer(help="The metadata store's schema.", no_args_is_help=True)
app.add_typer(db, name="db")


@experiments.command("list")
def experiments_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every experiment with its number of runs."""
    from loopline.cli._context import store

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


@app.command("version")
def version(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Print Loopline's version."""
    if as_json:
        print(json.dumps({"loopline": __version__}))
    else:
        print(f"loopline {__version__}")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except LooplineError as exc:
        err_console.print(f"[red]error:[/red] {exc.one_line()}", highlight=False, soft_wrap=True)
        raise SystemExit(2) from None


__all__ = ["app", "main"]
