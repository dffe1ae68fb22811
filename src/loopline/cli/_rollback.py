"""`loopline models rollback MODEL [ALIAS]`: point an alias back at a version it held.

The alias comes after the model, as `ll.rollback("churn", "production")` takes it, and the
version is `--to-version` (docs/vocabulary.md §7, §8). Last release's spellings, `--alias A`
and `--to N`, keep working for one release: hidden from the help, with a one-line notice on
stderr. Registered on `loopline models` in _models.py.
"""

from __future__ import annotations

from typing import Annotated, TypeVar

import typer

from loopline.cli._output import console, err_console, print_json
from loopline.errors import InvalidInputError

T = TypeVar("T", str, int)


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

    alias = _renamed("--alias", old_alias, "the alias after the model", alias)
    to_version = _renamed("--to", old_to, "--to-version", to_version)
    alias = "production" if alias is None else alias
    move, seconds = do_rollback(model, alias, version=to_version, reason=reason)
    if as_json:
        print_json({**move.__dict__, "seconds": seconds})
    else:
        console.print(
            f"rolled back {model}@{alias}: v{move.from_version} → v{move.to_version} "
            f"in {seconds * 1000:.1f} ms"
        )


def _renamed(old: str, old_value: T | None, new: str, new_value: T | None) -> T | None:
    """The value given under the new spelling or, with a deprecation notice, the old one.
    Both given and different is a mistake, said in one line before anything is printed."""
    if old_value is None:
        return new_value
    if new_value is not None and new_value != old_value:
        raise InvalidInputError(
            f"{new} is {new_value} but {old} is {old_value}", hint=f"pass {new} only"
        )
    err_console.print(
        f"warning: {old} is deprecated and goes in the next release; pass {new} instead",
        highlight=False,
        soft_wrap=True,
    )
    return old_value


__all__ = ["rollback"]
