"""`loopline reports pr` (the pull-request comment) and `loopline reports dora` (DORA's four
keys and model health; in _dora.py). They were `loopline report pr` and `loopline dora`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from loopline.cli._ci import PipelineArg
from loopline.cli._dora import dora
from loopline.cli._output import console, print_json
from loopline.errors import InvalidInputError

app = typer.Typer(
    help="Reports: the pull-request comment, DORA's four keys and model health.",
    no_args_is_help=True,
)


@app.command("pr")
def pr(
    pipeline: PipelineArg = None,
    run_id: Annotated[
        str | None, typer.Option("--run", help="Pipeline run \\[default: the latest]")
    ] = None,
    env: Annotated[
        str | None, typer.Option(help="Environment to compare with \\[default: the last]")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="markdown | json")] = "markdown",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file")] = None,
    fail_on_gate: Annotated[
        bool, typer.Option("--fail-on-gate", help="Exit 1 when the gate would refuse")
    ] = False,
) -> None:
    """Metric deltas vs the champion, the gate as a dry run and drift of the new training
    data, for a pull-request comment."""
    from loopline.pipelines import load_pipeline, pr_report

    if fmt not in ("markdown", "json"):
        raise InvalidInputError(f"unknown --format {fmt!r}", hint="use markdown or json")
    report = pr_report(load_pipeline(pipeline), run_id=run_id, env=env)
    if fmt == "json":
        if output is None:
            print_json(report.as_dict())
        else:
            import json

            output.write_text(json.dumps(report.as_dict(), indent=2, default=str) + "\n")
    else:
        text = report.to_markdown()
        if output is None:
            sys.stdout.write(text)
        else:
            output.write_text(text)
    if output is not None:
        verdict = "passes" if report.passed else "fails" if report.decision else "not evaluated"
        console.print(f"wrote {output} (gate {verdict})", highlight=False)
    if fail_on_gate and not report.passed:
        raise typer.Exit(1)


app.command("dora")(dora)

__all__ = ["app"]
