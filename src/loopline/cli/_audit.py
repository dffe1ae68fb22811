"""`loopline audit verify|export`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from loopline.cli._output import console, print_json

app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


@app.command("verify")
def verify(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Recompute the hash chain; exit 1 and name the first bad event if it is broken."""
    from loopline.ops import verify_audit

    verdict = verify_audit()
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
    from loopline.ops import export_audit

    if out is None:
        export_audit(sys.stdout)
        return
    with out.open("w") as f:
        n = export_audit(f)
    console.print(f"wrote {n} events to {out}")
