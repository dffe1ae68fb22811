"""`loopline runs list|show|compare`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from loopline.cli import _context
from loopline.cli._output import (
    Col,
    console,
    duration,
    number,
    print_json,
    status,
    table,
    when,
)
from loopline.errors import InvalidInputError

if TYPE_CHECKING:
    from loopline.store import Artifact, DatasetUse, MetadataStore, Run

app = typer.Typer(help="Tracked runs: list, show one, compare several.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _run_json(run: Run) -> dict[str, Any]:
    return run.as_dict()


WideOpt = Annotated[
    bool, typer.Option("--wide", help="Every column, unwrapped, however wide the terminal.")
]


@app.command("list")
def list_runs(
    experiment: Annotated[
        str | None, typer.Option("--experiment", "-e", help="Only runs of this experiment")
    ] = None,
    status_: Annotated[
        str | None, typer.Option("--status", help="running, finished, failed or lost")
    ] = None,
    sort: Annotated[
        str | None, typer.Option(help="e.g. 'metric.auc desc', 'param.C asc', 'started_at'")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many (paging)")] = 0,
    tag: Annotated[list[str] | None, typer.Option(help="Only runs tagged key=value")] = None,
    wide: WideOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """List runs, newest first (or sorted by a metric or param), filtered by tags."""
    meta = _context.store()
    runs = meta.list_runs(experiment, status_, limit, sort, offset, tag or ())
    if as_json:
        print_json([_run_json(r) for r in runs])
        return
    if not runs:
        console.print(_no_runs(meta, experiment, status_, offset, tag or []), highlight=False)
        return
    # The metric sorted by comes first and is never cut; the others give way to the terminal.
    sorted_by = (sort or "").split()[0].removeprefix("metric.") if sort else ""
    metric_keys = sorted({k for r in runs for k in r.metrics}, key=lambda k: (k != sorted_by, k))
    rows = [
        [
            r.id[:8],
            r.experiment if experiment is None else r.name,
            status(r.status),
            when(r.started_at, short=True),
            duration(r.started_at, r.ended_at),
            *(number(r.metrics[k], 4) if k in r.metrics else "" for k in metric_keys),
        ]
        for r in runs
    ]
    columns = [
        Col("run", key=True),
        Col("experiment" if experiment is None else "name"),
        Col("status", drop=2),
        Col("started", drop=4),
        Col("took", drop=5),
        *(Col(k, key=True) if k == sorted_by else Col(k, drop=3) for k in metric_keys),
    ]
    table(None, columns, rows, wide=wide)


def _no_runs(
    meta: MetadataStore, experiment: str | None, status_: str | None, offset: int, tags: list[str]
) -> str:
    """Why the listing is empty: no runs at all, or none matching the filters given."""
    total = sum(e.run_count for e in meta.list_experiments() if experiment in (None, e.name))
    where = f"experiment {experiment!r}" if experiment else "the store"
    if total == 0:
        return f"No runs in {where} yet: start one with `ll.start_run(...)` or `make demo`."
    filters = [f"--tag {t}" for t in tags]
    filters += [f"--status {status_}"] if status_ else []
    filters += [f"--offset {offset}"] if offset else []
    return f"No runs match {' '.join(filters)} ({total} run{'s' * (total != 1)} in {where})."


@app.command("show")
def show(
    run_id: Annotated[str, typer.Argument(help="Run id or a unique prefix (4+ chars).")],
    wide: WideOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Everything about one run: status, lineage, params, metrics, data, artifacts."""
    meta = _context.store()
    run = meta.get_run(run_id)
    datasets = meta.run_datasets(run.id)
    artifacts = meta.list_artifacts(run.id)
    history = meta.metric_history(run.id)
    points: dict[str, int] = {}
    for p in history:
        points[p.key] = points.get(p.key, 0) + 1
    if as_json:
        print_json(_show_json(run, points, datasets, artifacts))
        return
    console.print(f"[bold]run {run.id}[/bold]  {run.name}  ({run.experiment})")
    console.print(
        f"status {status(run.status)}  started {when(run.started_at)}  "
        f"took {duration(run.started_at, run.ended_at)}"
    )
    if run.error:
        console.print(f"[red]error:[/red] {run.error}")
    _lineage_table(run)
    # Names and numbers whole; a long value (a path, a list) wraps.
    value = [Col("value", text=True)]
    if run.params:
        table("Params", [Col("param", key=True), *value], sorted(run.params.items()), wide=wide)
    if run.tags:
        table("Tags", [Col("tag", key=True), *value], sorted(run.tags.items()), wide=wide)
    if run.metrics:
        table(
            "Metrics (last value)",
            [Col("metric", key=True), Col("value", key=True), Col("points", drop=1)],
            [[k, number(v), points.get(k, 0)] for k, v in sorted(run.metrics.items())],
            wide=wide,
        )
    _files_tables(datasets, artifacts, wide)


def _show_json(
    run: Run, points: dict[str, int], datasets: list[DatasetUse], artifacts: list[Artifact]
) -> dict[str, Any]:
    """`runs show --json`: the run, its metric point counts, datasets and artifacts."""
    data = _run_json(run)
    data["metric_points"] = points
    data["datasets"] = [
        {
            "name": u.name,
            "role": u.role,
            "fingerprint": u.dataset.fingerprint,
            "n_rows": u.dataset.n_rows,
            "n_columns": u.dataset.n_columns,
        }
        for u in datasets
    ]
    data["artifacts"] = [
        {"path": a.path, "kind": a.kind, "sha256": a.sha256, "size": a.size, "meta": a.meta}
        for a in artifacts
    ]
    return data


def _lineage_table(run: Run) -> None:
    lin = run.lineage
    commit = lin.git_commit[:12] if lin.git_commit else "(not in a git repository)"
    dirty = " [yellow](uncommitted changes)[/yellow]" if lin.git_dirty else ""
    table(
        "Lineage",
        [Col("what", key=True), Col("value", text=True)],
        [
            ["code commit", f"{commit}{dirty}"],
            ["remote", lin.git_remote or ""],
            ["python", lin.python_version],
            ["packages sha256", (lin.packages_hash or "")[:16]],
            ["host / user / pid", f"{lin.host} / {lin.user} / {lin.pid}"],
            ["seed", lin.seed],
        ],
    )


def _files_tables(datasets: list[DatasetUse], artifacts: list[Artifact], wide: bool) -> None:
    if datasets:
        table(
            "Datasets",
            [
                Col("name", key=True),
                Col("role", drop=1),
                Col("fingerprint", key=True),
                Col("rows", justify="right"),
                Col("columns", drop=2, justify="right"),
            ],
            [
                [u.name, u.role, u.dataset.fingerprint[:12], u.dataset.n_rows, u.dataset.n_columns]
                for u in datasets
            ],
            wide=wide,
        )
    if artifacts:
        table(
            "Artifacts",
            [
                Col("path", key=True),
                Col("kind", text=True, max_width=24),
                Col("size", drop=2, justify="right"),
                Col("sha256", key=True),
            ],
            [
                [
                    a.path,
                    a.kind + (f" ({a.meta['flavor']})" if "flavor" in a.meta else ""),
                    a.size,
                    a.sha256[:12],
                ]
                for a in artifacts
            ],
            wide=wide,
        )


@app.command("compare")
def compare(
    run_ids: Annotated[list[str], typer.Argument(help="Two to ten run ids (or prefixes).")],
    wide: WideOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Params and last metric values side by side; differing rows are marked. The runs that
    do not fit the terminal are named below the table (--wide shows them all)."""
    if not 2 <= len(run_ids) <= 10:
        raise InvalidInputError(
            f"compare takes 2 to 10 runs, got {len(run_ids)}", hint="pass 2 to 10 run ids"
        )
    meta = _context.store()
    runs = [meta.get_run(r) for r in run_ids]
    rows: list[dict[str, Any]] = []
    for kind, attr in (("param", "params"), ("metric", "metrics")):
        keys = sorted({k for r in runs for k in getattr(r, attr)})
        for key in keys:
            values = [getattr(r, attr).get(key) for r in runs]
            rows.append(
                {"kind": kind, "key": key, "values": values, "differs": len(set(values)) > 1}
            )
    if as_json:
        print_json({"runs": [r.id for r in runs], "rows": rows})
        return

    def cell(v: Any) -> str:
        return "" if v is None else number(v) if isinstance(v, float) else str(v)

    # The first two runs always show (a comparison needs two); long values wrap.
    columns = [
        Col("", key=True),
        Col("key", key=True),
        *(Col(r.id[:8], text=True, max_width=40, drop=int(i >= 2)) for i, r in enumerate(runs)),
    ]
    table(
        None,
        columns,
        [
            [
                "≠" if row["differs"] else "",
                f"{row['kind']}.{row['key']}",
                *(cell(v) for v in row["values"]),
            ]
            for row in rows
        ],
        wide=wide,
    )
