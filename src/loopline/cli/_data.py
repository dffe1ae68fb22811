"""`loopline data validate|infer-contract|profile|versions`.

`validate` exits 0 when the data passes (warnings and quarantined rows included), 1 when an
`error` rule fails, and 2 for a usage mistake (unreadable file, malformed contract).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from loopline.cli._output import Col, console, number, print_json, table, when
from loopline.errors import ConflictError

app = typer.Typer(
    help="Data contracts, validation, profiles and dataset versions.", no_args_is_help=True
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
WideOpt = Annotated[
    bool, typer.Option("--wide", help="Every column, unwrapped, however wide the terminal.")
]
FileArg = Annotated[Path, typer.Argument(help="CSV, TSV, Parquet or Arrow file.")]
FormatOpt = Annotated[
    str | None,
    typer.Option("--format", help="csv, tsv, parquet or arrow, when the extension is wrong."),
]
_STATUS = {"passed": "green", "failed": "red", "skipped": "dim"}
_VERDICT = {"passed": "green", "warned": "yellow", "quarantined": "magenta", "failed": "red"}


def _status(status: str, severity: str) -> str:
    style = "yellow" if status == "failed" and severity == "warn" else _STATUS.get(status, "white")
    return f"[{style}]{status}[/{style}]"


@app.command("validate")
def validate_cmd(
    file: FileArg,
    contract: Annotated[Path, typer.Option("--contract", "-c", help="Contract YAML file.")],
    quarantine: Annotated[
        Path | None,
        typer.Option(help="Write rows failing 'quarantine' rules here (.parquet or .csv)."),
    ] = None,
    html: Annotated[Path | None, typer.Option("--html", help="Write an HTML report here.")] = None,
    examples: Annotated[int, typer.Option(min=0, max=100, help="Failing rows shown per rule.")] = 5,
    show_all: Annotated[
        bool, typer.Option("--all", help="List the rules that passed too, not just their count.")
    ] = False,
    fmt: FormatOpt = None,
    wide: WideOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Check a data file against a contract; exit 1 if an error-severity rule fails."""
    from loopline.data import read_table, validate

    df = read_table(file, fmt)
    report = validate(df, contract, max_examples=examples)
    report.source = str(file)
    written = []
    if quarantine is not None:
        from loopline.data import check_quarantine

        check_quarantine(report, quarantine)  # refuses before writing an empty file
        written.append(f"quarantine: {report.write_quarantine(df, quarantine)}")
    if html is not None:
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(report.to_html(), encoding="utf-8")
        written.append(f"report: {html}")
    if as_json:
        print_json(report.to_dict())
    else:
        _rules_table(report.rules, show_all, wide)
        style = _VERDICT.get(report.verdict, "white")
        console.print(f"[{style}]{report.summary()}[/{style}]", highlight=False)
        for line in written:
            console.print(line, highlight=False)
    if not report.passed:
        raise typer.Exit(1)


def _rules_table(rules: list[Any], show_all: bool, wide: bool) -> None:
    """Failed (and skipped) rules first, then the passed ones: listed with --all, else
    counted, so a failure is never buried under 80 passes."""
    shown = sorted(rules, key=lambda r: r.status == "passed")
    if not show_all:
        shown = [r for r in shown if r.status != "passed"]
    rows = []
    for r in shown:
        frac = "" if r.failing_fraction is None or not r.failed else f"{r.failing_fraction:.2%}"
        detail = _without_column(r.id, r.message or r.expectation)
        if r.examples and r.rule != "dtype":  # a dtype message names its first row itself
            detail += f"  e.g. row {r.examples[0]['row']}: {r.examples[0]['value']!r}"
        rows.append(
            [r.id, r.severity, _status(r.status, r.severity), r.failing_count or "", frac, detail]
        )
    if rows:
        headers = [
            Col("rule", key=True),
            Col("severity", drop=1),
            Col("status", key=True),
            Col("failing", key=True, justify="right"),
            Col("fraction", drop=2, justify="right"),
            Col("detail", text=True),
        ]
        table(None, headers, rows, wide=wide)
    passed = sum(r.status == "passed" for r in rules)
    if rows and passed and not show_all:  # with no failure the summary line says it all
        console.print(
            f"{passed} rule{'s' * (passed != 1)} passed (--all lists them)", highlight=False
        )


def _without_column(rule_id: str, detail: str) -> str:
    """The detail of rule `tenure.not_null` as "not null", not "tenure not null": the rule id
    beside it names the column, and the detail column keeps room to wrap between words."""
    column = rule_id.rpartition(".")[0]
    return detail[len(column) + 1 :] if column and detail.startswith(f"{column} ") else detail


@app.command("infer-contract")
def infer_contract_cmd(
    file: FileArg,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Where to write it ('-' for stdout)."),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Dataset name (default: file stem).")] = None,
    sample: Annotated[int, typer.Option(min=1, help="Rows sampled to infer from.")] = 100_000,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    fmt: FormatOpt = None,
) -> None:
    """Write a starting contract from a sample of the data (default contracts/<stem>.yaml)."""
    from loopline.data import infer_contract, read_table

    df = read_table(file, fmt)
    contract = infer_contract(df, name=name or file.name.split(".")[0], sample=sample)
    if output is not None and str(output) == "-":
        sys.stdout.write(contract.to_yaml())
        return
    out = output or Path("contracts") / f"{file.name.split('.')[0]}.yaml"
    if out.exists() and not force:
        raise ConflictError(
            f"{out} already exists", hint="pass --force to overwrite it, or -o another path"
        )
    contract.save(out)
    console.print(
        f"wrote {out} ({len(contract.columns)} columns, from {min(len(df), sample):,} rows); "
        f"review it, then: loopline data validate {file} --contract {out}",
        highlight=False,
    )


def _profile_row(name: str, col: dict[str, Any]) -> list[Any]:
    if col["kind"] == "numeric" and col.get("count"):
        summary = (
            f"min {number(col['min'], 4)}  median {number(col['quantiles']['0.5'], 4)}  "
            f"max {number(col['max'], 4)}"
        )
    elif col["kind"] == "categorical":
        top = ", ".join(f"{k} ({v})" for k, v in list(col["top"].items())[:3])
        summary = f"top: {top}" if top else ""
    else:
        summary = ""
    return [
        name,
        col["dtype"],
        f"{col['null_fraction']:.1%}",
        col.get("n_unique", ""),
        summary,
    ]


@app.command("profile")
def profile_cmd(
    file: FileArg, fmt: FormatOpt = None, wide: WideOpt = False, as_json: JsonOpt = False
) -> None:
    """Per-column profile: dtype, nulls, distinct values, quantiles or top categories."""
    from loopline.data import fingerprint, profile, read_table

    df = read_table(file, fmt)
    prof = profile(df)
    if as_json:
        print_json({"file": str(file), "fingerprint": fingerprint(df), **prof})
        return
    times = "\N{MULTIPLICATION SIGN}"
    console.print(
        f"[bold]{file}[/bold]  {prof['n_rows']:,} rows {times} {prof['n_columns']} columns"
    )
    table(
        None,
        [
            Col("column", key=True),
            Col("dtype", drop=2),
            Col("null", justify="right"),
            Col("distinct", drop=1, justify="right"),
            Col("summary", text=True),
        ],
        [_profile_row(n, c) for n, c in prof["columns"].items()],
        wide=wide,
    )


@app.command("versions")
def versions_cmd(
    name: Annotated[str, typer.Argument(help="Dataset name, as logged with run.log_dataset.")],
    wide: WideOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Registered versions of a dataset, newest first, with the runs that used each."""
    from loopline.cli import _context

    meta = _context.store(reap=False)
    versions = meta.list_datasets(name, limit=None)
    used = {
        v.fingerprint: sorted(
            {e.dst_id for e in meta.lineage_edges("dataset", v.fingerprint) if e.dst_kind == "run"}
        )
        for v in versions
    }
    if as_json:
        print_json(
            [
                {
                    "fingerprint": v.fingerprint,
                    "name": v.name,
                    "n_rows": v.n_rows,
                    "n_columns": v.n_columns,
                    "schema": v.schema,
                    "source": v.source,
                    "created_at": v.created_at,
                    "runs": used[v.fingerprint],
                }
                for v in versions
            ]
        )
        return
    if not versions:
        console.print(
            f"No versions of dataset {name!r} yet: runs register them with "
            f"`run.log_dataset(df, name={name!r})`."
        )
        return
    table(
        None,
        [
            Col("fingerprint", key=True),
            Col("rows", justify="right"),
            Col("columns", drop=2, justify="right"),
            Col("registered", drop=1),
            Col("runs", text=True, max_width=40),
            Col("source", text=True),
        ],
        [
            [
                v.fingerprint[:12],
                f"{v.n_rows:,}",
                v.n_columns,
                when(v.created_at, short=True),
                " ".join(r[:8] for r in used[v.fingerprint][:4])
                + (" …" if len(used[v.fingerprint]) > 4 else ""),
                v.source or "",
            ]
            for v in versions
        ],
        wide=wide,
    )
