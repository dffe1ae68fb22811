"""`loopline monitors labels ...`: delayed outcomes that join captured predictions by request
id (add, list, remove)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from loopline.cli._output import Col, JsonOpt, WideOpt, console, print_json, table, when


class _LabelsGroup(TyperGroup):
    """`monitors labels FILE` (no sub-command) stays `monitors labels add FILE`."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["add", *args]
        return super().parse_args(ctx, args)


labels_app = typer.Typer(
    cls=_LabelsGroup,
    help="Delayed outcomes: add a file (`labels FILE` = `labels add FILE`), list, remove.",
    no_args_is_help=True,
)


@labels_app.command("add")
def labels_add(
    file: Annotated[Path, typer.Argument(help="Parquet or CSV with outcomes")],
    key: Annotated[str, typer.Option(help="Request id column")] = "request_id",
    label: Annotated[str, typer.Option(help="Outcome column")] = "label",
    model: Annotated[str | None, typer.Option(help="Model (guessed from the ids)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Store delayed outcomes; they join captured predictions by request id."""
    from loopline.monitoring import ingest_labels

    got = ingest_labels(file, key=key, label=label, model=model)
    if as_json:
        print_json({"id": got.id, "model": got.model, "rows": got.rows, "matched": got.matched})
        return
    console.print(
        f"{got.rows} label(s) for {got.model}; {got.matched} match a prediction (id {got.id})"
    )


@labels_app.command("list")
def labels_list(
    model: Annotated[str | None, typer.Option(help="Only this model")] = None,
    wide: WideOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """The labels files ingested, oldest first (a later label replaces an earlier one)."""
    from loopline.monitoring import list_labels

    found = list_labels(model)
    if as_json:
        print_json([f.as_dict() for f in found])
        return
    if not found:  # say where it looked: an empty table does not
        from loopline.config import load_settings

        where = (load_settings().home / "labels" / (model or "")).absolute()
        console.print(f"no labels files under {where}", highlight=False, soft_wrap=True)
        return
    table(
        None,
        [Col("id", key=True), Col("model", key=True), Col("file", text=True), Col("rows"),
         Col("ingested", drop=2), Col("by", drop=1)],
        [[f.id, f.model, f.source, f.rows, when(f.ingested_at, True), f.ingested_by or "?"]
         for f in found],
        wide=wide,
    )  # fmt: skip


@labels_app.command("remove")
def labels_remove(
    labels_id: Annotated[str, typer.Argument(metavar="ID", help="From `monitors labels list`")],
    model: Annotated[str | None, typer.Option(help="The model, when the id is ambiguous")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Remove one ingested labels file (audited); the next `monitors run` recomputes without it."""
    from loopline.monitoring import remove_labels

    gone = remove_labels(labels_id, model=model)
    if as_json:
        print_json(gone.as_dict())
        return
    console.print(f"removed labels {gone.id} of {gone.model} ({gone.rows} row(s))")


__all__ = ["labels_app"]
