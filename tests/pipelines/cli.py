"""The pipeline commands mounted exactly as `loopline.cli` registers them, for CliRunner."""

from __future__ import annotations

import typer
from typer.testing import CliRunner, Result

from loopline.cli import _pipelines, _reports
from loopline.errors import LooplineError

app = typer.Typer(pretty_exceptions_enable=False, add_completion=False)
app.add_typer(_pipelines.app, name="pipelines")
app.add_typer(_reports.app, name="reports")


def invoke(*args: str) -> Result:
    """Run a command; a LooplineError becomes exit code 2 and one line, as `loopline` does."""
    result = CliRunner().invoke(app, list(args), catch_exceptions=True)
    if isinstance(result.exception, LooplineError):
        result.output_bytes += f"error: {result.exception.one_line()}\n".encode()
        result.exit_code = 2
    return result
