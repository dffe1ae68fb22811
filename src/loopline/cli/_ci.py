"""`loopline ci init` (workflow templates) and `loopline report pr` (the PR comment)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from loopline.cli._output import console, print_json
from loopline.errors import InvalidInputError

app = typer.Typer(
    help="CI/CD: workflow templates derived from loopline.yaml.", no_args_is_help=True
)
report_app = typer.Typer(help="Reports for reviewers.", no_args_is_help=True)
PipelineArg = Annotated[
    str | None,
    typer.Argument(help="loopline.yaml, or the folder holding it [default: ./loopline.yaml]"),
]


@app.command("init")
def init(
    provider: Annotated[str, typer.Option(help="github | gitlab")],
    pipeline: PipelineArg = None,
    root: Annotated[Path, typer.Option(help="Repository root the workflow goes in")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file")] = False,
) -> None:
    """Write a CI workflow: PRs validate, test, train small and post the gate report;
    merges to main register and promote to staging; tags promote to production after
    approval."""
    from loopline.pipelines import load_pipeline, write_ci_workflow
    from loopline.pipelines._ci import ci_setup_note

    spec = load_pipeline(pipeline)
    rel = Path(os.path.relpath(Path(spec.source).resolve(), root.resolve())).as_posix()
    if rel.startswith(".."):
        raise InvalidInputError(
            f"{spec.source} is outside the repository root {root}",
            hint="run from the repository root or pass --root",
        )
    path = write_ci_workflow(spec, provider, rel, root, force=force)
    console.print(f"wrote {path}", highlight=False)
    note = ci_setup_note(provider)
    if provider == "gitlab":
        note.append("GitLab needs LOOPLINE_GITLAB_TOKEN to post MR notes.")
    console.print("\n".join(f"  {line}" for line in note), highlight=False, markup=False)


@report_app.command("pr")
def pr(
    pipeline: PipelineArg = None,
    run_id: Annotated[
        str | None, typer.Option("--run", help="Pipeline run [default: the latest]")
    ] = None,
    env: Annotated[
        str | None, typer.Option(help="Environment to compare with [default: the last]")
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


__all__ = ["app", "report_app"]
