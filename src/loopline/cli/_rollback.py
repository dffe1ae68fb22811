"""`loopline models rollback MODEL [ALIAS]`: point an alias back at a version it held.

The alias comes after the model, as `ll.rollback("churn", "production")` takes it, and the
version is `--to-version` (docs/vocabulary.md §7, §8). Last release's spellings, `--alias A`
and `--to N`, keep working for one release: hidden from the help, with a one-line notice on
stderr. Registered on `loopline models` in _models.py.
"""

from __future__ import annotations

from typing import Annotated

import typer

from loopline.cli._deprecated import renamed_option
from loopline.cli._output import console, print_json


def rollback(
    model: Annotated[str, typer.Argument(metavar="MODEL", help="Registered model, e.g. churn")],
    alias: Annotated[
        str | None,
        typer.Argument(
            metavar="ALIAS", help="Alias to move back (default production)", show_default=False
        ),
    ] = None,
    to_version: Annotated[
        int | None,
        typer.Option("--to-version", help="Version to point it at; default the previous holder"),
    ] = None,
    reason: Annotated[str | None, typer.Option(help="Why (kept in the audit log)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    old_alias: Annotated[str | None, typer.Option("--alias", hidden=True)] = None,
    old_to: Annotated[int | None, typer.Option("--to", hidden=True)] = None,
) -> None:
    """Point ALIAS of MODEL back at the version it held before (a pointer move, audited)."""
    from loopline.registry import rollback as do_rollback

    alias = renamed_option("--alias", old_alias, "the alias after the model", alias)
    to_version = renamed_option("--to", old_to, "--to-version", to_version)
    alias = "production" if alias is None else alias
    move, seconds = do_rollback(model, alias, version=to_version, reason=reason)
    if as_json:
        print_json({**move.__dict__, "seconds": seconds})
    else:
        console.print(
            f"rolled back {model}@{alias}: v{move.from_version} → v{move.to_version} "
            f"in {seconds * 1000:.1f} ms"
        )


__all__ = ["rollback"]
