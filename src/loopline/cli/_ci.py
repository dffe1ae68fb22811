"""`loopline pipelines ci`: a CI workflow written from loopline.yaml (it was `loopline ci
init`). Mounted on `loopline pipelines` in _pipelines.py."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from loopline.cli._output import console
from loopline.errors import InvalidInputError

PipelineArg = Annotated[
    str | None,
    typer.Argument(help="loopline.yaml, or the folder holding it \\[default: ./loopline.yaml]"),
]


def ci(
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


__all__ = ["PipelineArg", "ci"]
