"""The pipeline commands mounted exactly as `loopline.cli` registers them, for CliRunner."""

from __future__ import annotations

import typer
from typer.testing import CliRunner, Result

from loopline.cli import _ci, _dora, _pipelines
from loopline.errors import LooplineError

app = typer.Typer(pretty_exceptions_enable=False, add_completion=False)
app.command("run")(_pipelines.run)
app.command("scheduler")(_pipelines.scheduler)
app.command("diagram")(_pipelines.diagram)
app.add_typer(_ci.app, name="ci")
app.add_typer(_ci.report_app, name="report")
app.command("dora")(_dora.dora)


def invoke(*args: str) -> Result:
    """Run a command; a LooplineError becomes exit code 2 and one line, as `loopline` does."""
    result = CliRunner().invoke(app, list(args), catch_exceptions=True)
    if isinstance(result.exception, LooplineError):
        result.output_bytes += f"error: {result.exception.one_line()}\n".encode()
        result.exit_code = 2
    return result
