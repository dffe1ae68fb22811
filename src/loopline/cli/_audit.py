"""`loopline audit verify|export`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from loopline.cli._output import console, print_json

app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


@app.command("verify")
def verify(
    against: Annotated[
        Path | None,
        typer.Option(help="An earlier `audit export`: also catch deleted newest events"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Recompute the hash chain; exit 1 and name the first bad event if it is broken."""
    import json

    from loopline.cli._context import store
    from loopline.errors import InvalidInputError
    from loopline.ops import verify_audit

    store(reap=False)  # outside a project: says where it looked, creates nothing

    exported = None
    if against is not None:
        try:
            exported = [json.loads(line) for line in against.read_text().splitlines() if line]
        except (OSError, ValueError) as exc:
            raise InvalidInputError(
                f"cannot read the export {against}: {exc}",
                hint="pass a file written by `loopline audit export -o FILE`",
            ) from None
    verdict = verify_audit(against=exported)
    if as_json:
        print_json(verdict.__dict__)
    elif verdict.ok:
        console.print(f"[green]audit log intact[/green]: {verdict.events} events verified")
    else:
        console.print(
            f"[red]audit log broken[/red] at event {verdict.first_bad_id}: {verdict.problem}"
        )
    if not verdict.ok:
        raise typer.Exit(1)


@app.command("export")
def export(
    out: Annotated[Path | None, typer.Option("-o", help="File to write (default stdout)")] = None,
) -> None:
    """Every audit event as JSON Lines, for auditors."""
    from loopline.cli._context import store
    from loopline.ops import export_audit

    store(reap=False)  # outside a project: says where it looked, creates nothing

    if out is None:
        export_audit(sys.stdout)
        return
    with out.open("w") as f:
        n = export_audit(f)
    console.print(f"wrote {n} events to {out}")
