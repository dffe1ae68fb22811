"""`loopline score MODEL_URI --input in.parquet --output out.parquet`: batch scoring."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from loopline.cli._output import console, err_console, print_json

if TYPE_CHECKING:
    from loopline.batch import Progress as OnProgress
    from loopline.batch import ScoreReport


@contextmanager
def _progress_bar(enabled: bool) -> Iterator[OnProgress | None]:
    """A rows-done bar on stderr (stdout stays clean for --json), when a person is watching."""
    if not enabled:
        yield None
        return
    columns = (
        TextColumn("scoring"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.completed:,.0f}/{task.fields[total_text]} rows"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        # CSV gives no row count up front: the bar pulses until the total is known.
        task = bar.add_task("score", total=None, total_text="?")

        def update(done: int, total: int | None) -> None:
            text = "?" if total is None else f"{total:,}"
            bar.update(task, completed=done, total=total, total_text=text)

        yield update


def score(
    uri: Annotated[
        str,
        typer.Argument(
            help="Model to score with: models:/<name>@<alias>, models:/<name>/<n> "
            "or runs:/<run_id>/<name>"
        ),
    ],
    input: Annotated[
        Path,
        typer.Option(
            "--input",
            "-i",
            help="Rows to score: .parquet, .csv, .csv.gz, or a folder of Parquet partitions",
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="Where to write the scores: .parquet or .csv, or a folder (no extension) "
            "of Parquet partitions (replaced)",
        ),
    ],
    chunk_size: Annotated[
        int, typer.Option("--chunk-size", min=1, help="Rows per chunk; memory grows with it")
    ] = 100_000,
    id_columns: Annotated[
        list[str] | None,
        typer.Option(
            "--id",
            help="Input column to copy to the output (repeatable). "
            "Default: every input column the model does not read.",
        ),
    ] = None,
    contract: Annotated[
        Path | None,
        typer.Option(help="Data contract (YAML) every chunk must pass before it is scored"),
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine",
            envvar="LOOPLINE_ENGINE",
            help="local (this process) or ray (a Ray cluster; pip install 'loopline\\[ray]')",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Score a file with a model, in chunks: the output keeps the id columns and adds
    prediction, probability and model_version. Nothing is written if any row fails."""
    from loopline.batch import score as run_score

    with _progress_bar(err_console.is_terminal and not as_json) as on_progress:
        report = run_score(
            uri,
            input,
            output,
            chunk_size=chunk_size,
            id_columns=id_columns,
            contract=contract,
            engine=engine,
            progress=on_progress,
        )
    if as_json:
        print_json(report.as_dict())
    else:
        _print_report(report)


def _print_report(report: ScoreReport) -> None:
    """What was scored, how fast, and the rows the contract set aside or warned about."""
    chunks = f"{report.chunks:,} chunk{'s' if report.chunks != 1 else ''}"
    console.print(
        f"scored {report.rows:,} rows with {report.model_version} → {report.output} "
        f"({chunks}, {report.seconds:.1f}s, {report.rows_per_second:,.0f} rows/s)",
        highlight=False,
    )
    if report.quarantined_rows:
        console.print(
            f"{report.quarantined_rows:,} rows set aside by the contract's quarantine rules "
            "were not scored",
            highlight=False,
        )
    if report.contract_warnings:
        console.print(f"contract warnings: {', '.join(report.contract_warnings)}", highlight=False)


__all__ = ["score"]
