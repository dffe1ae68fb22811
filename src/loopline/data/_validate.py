"""The validation engine: contract + data → ValidationReport.

Column rules run one column at a time over the frame's own buffers (no copy of the frame);
table rules and label checks follow. Evidence (examples, charts, quarantine reasons) is only
gathered for rules that failed, so a passing validation costs little more than its checks.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from loopline.data._contract import ROW_RULES, Column, Contract, Expression, load_contract
from loopline.data._expr import expression_columns
from loopline.data._io import load_frame
from loopline.data._labels import label_checks
from loopline.data._report import RuleResult, ValidationReport, jsonable
from loopline.data._report_html import chart_data
from loopline.data._rules import Outcome, View, evaluate_column, planned_rules
from loopline.data._table import (
    exact_columns,
    expression,
    freshness,
    row_count,
    row_count_trend,
    unique_keys,
)

MAX_EXAMPLES = 5
PARALLEL_CELLS = 2_000_000  # below this many cells, thread hand-off costs more than it saves
WORKERS = min(4, os.cpu_count() or 1)
_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def validate(
    data: Any,
    contract: Contract | str | os.PathLike[str],
    *,
    history: Sequence[int] | None = None,
    holdout: Any = None,
    now: pd.Timestamp | None = None,
    max_examples: int = MAX_EXAMPLES,
    format: str | None = None,
) -> ValidationReport:
    """Check `data` (pandas/polars/Arrow or a CSV/Parquet/Arrow path) against `contract`.

    `history` is the row counts of previously accepted batches, newest first, for the
    row-count trend rule; when omitted it is read from the metadata store (dataset versions
    registered under the contract's `name`). `holdout` enables the train/test overlap check.
    """
    spec = load_contract(contract)
    df, source = load_frame(data, format)
    started = time.perf_counter()
    if not all(isinstance(c, str) for c in df.columns):
        df = df.rename(columns=str)  # contracts name columns by text; CoW keeps this copy-free
    n = len(df)
    outcomes: list[Outcome] = []
    if df.columns.has_duplicates:
        dupes = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
        outcomes.append(
            Outcome(
                "columns",
                None,
                "column names are unique",
                False,
                message=f"duplicate column names: {', '.join(dupes)}",
            )
        )
    jobs: list[tuple[str, pd.Series, Column]] = []
    for name, col_spec in spec.columns.items():
        if name not in df.columns:
            outcomes.extend(_absent(name, planned_rules(col_spec), col_spec.required))
            continue
        series = df[name]
        if isinstance(series, pd.DataFrame):  # duplicate name: the first one is checked
            series = series.iloc[:, 0]
        outcomes.append(Outcome("present", name, f"{name} present", True))
        jobs.append((name, series, col_spec))
    for found in _map_columns(jobs, n):
        outcomes.extend(found)
    # Table rules see converted columns too (a numeric column that arrived as text), so one
    # broken type is reported once, by its dtype rule, not again by every expression.
    converted = {o.column: o.coerced for o in outcomes if o.column and o.coerced is not None}
    table = df.assign(**converted) if converted else df
    if spec.strict:
        outcomes.append(exact_columns(df, spec))
    if spec.row_count is not None:
        outcomes.append(row_count(n, spec.row_count))
    if spec.row_count_trend is not None:
        if history is None and spec.name is not None:
            history = accepted_row_counts(spec.name)
        outcomes.append(row_count_trend(n, spec.row_count_trend, history))
    if spec.freshness is not None:
        outcomes.append(freshness(table, spec.freshness, now or pd.Timestamp.now(tz="UTC")))
    if spec.unique_keys is not None:
        outcomes.append(unique_keys(table, spec.unique_keys))
    # A value that does not convert is the dtype rule's failure; like the column rules, an
    # expression leaves that row to it rather than failing it again (NaN compares false).
    unconvertible = {
        o.column: o.mask
        for o in outcomes
        if o.rule == "dtype" and o.column and o.coerced is not None and o.mask is not None
    }
    outcomes.extend(_excused(expression(table, e), e, unconvertible) for e in spec.expressions)
    if spec.labels is not None:
        other = load_frame(holdout)[0] if holdout is not None else None
        outcomes.extend(label_checks(table, spec.labels, other))
    report = _report(df, spec, outcomes, max_examples)
    report.source = source
    report.duration_s = time.perf_counter() - started
    return report


def _excused(o: Outcome, rule: Expression, unconvertible: dict[str, np.ndarray]) -> Outcome:
    """`o` without the rows whose inputs to `rule` did not convert to their contract type."""
    hit = [unconvertible[c] for c in expression_columns(rule.expr) if c in unconvertible]
    if o.passed or o.mask is None or not hit:
        return o
    mask = o.mask & ~np.logical_or.reduce(hit)
    count = int(np.count_nonzero(mask))
    if count == 0:
        return Outcome("expr", None, o.expectation, True, 0, severity=o.severity, id=o.id)
    message = f"{count:,} rows break {rule.name!r} ({rule.expr})"
    return replace(o, failing=count, mask=mask, message=message)


def _map_columns(jobs: list[tuple[str, pd.Series, Column]], n: int) -> list[list[Outcome]]:
    """Evaluate columns, in threads when the frame is large: the kernels (Arrow hashing, numpy
    reductions) release the GIL, so columns overlap on the cores. Order is kept."""
    global _POOL
    if n * len(jobs) < PARALLEL_CELLS or WORKERS < 2 or len(jobs) < 2:
        return [evaluate_column(*job) for job in jobs]
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(WORKERS, thread_name_prefix="loopline-validate")
    # Longest first, so no core is left with a long one at the end: a unique rule sorts or
    # hashes every value (8 ms per million sparse ids), text takes a hash pass or the
    # fixed-width check (3-7 ms), numbers a couple of reductions (~1 ms).
    order = sorted(range(len(jobs)), key=lambda i: _rank(jobs[i][1], jobs[i][2]))
    # Whole-column reductions in the pool (block=None): see `min_max` for why.
    futures = {i: _POOL.submit(evaluate_column, *jobs[i], None) for i in order}
    return [futures[i].result() for i in range(len(jobs))]


def _rank(series: pd.Series, spec: Column) -> int:
    return 0 if spec.unique else 2 if pd.api.types.is_numeric_dtype(series.dtype) else 1


def accepted_row_counts(name: str) -> list[int]:
    """Row counts of the dataset versions registered under `name`, newest first."""
    from loopline.store import open_metadata_store

    return [d.n_rows for d in open_metadata_store().list_datasets(name, limit=None)]


def _absent(name: str, rules: list[str], required: bool) -> list[Outcome]:
    first = Outcome("present", name, f"{name} present", not required)
    if required:
        first.message = f"column {name!r} is missing"
    why = f"column {name!r} is missing"
    return [first, *(Outcome(r, name, r, True, message=why, skipped=True) for r in rules)]


def _severity(spec: Contract, o: Outcome) -> str:
    if o.column is not None:
        return spec.severity_of(o.rule, o.column)
    return spec.severity_of(o.rule, own=o.severity)


def _examples(df: pd.DataFrame, o: Outcome, mask: np.ndarray, k: int) -> list[dict[str, Any]]:
    positions = np.flatnonzero(mask)[:k]
    if o.column is not None:
        col = df[o.column]
        if isinstance(col, pd.DataFrame):
            col = col.iloc[:, 0]
        values: list[Any] = [jsonable(v) for v in col.iloc[positions]]
    else:
        cols = list(o.observed.get("columns", [])) or list(df.columns[:6])
        values = [jsonable(r) for r in df.iloc[positions][cols].to_dict("records")]
    labels = [jsonable(i) for i in df.index[positions]]
    return [{"row": r, "value": v} for r, v in zip(labels, values, strict=True)]


def _report(
    df: pd.DataFrame, spec: Contract, outcomes: list[Outcome], max_examples: int
) -> ValidationReport:
    n = len(df)
    results: list[RuleResult] = []
    quarantine: list[tuple[str, np.ndarray]] = []
    coerced: dict[str, tuple[pd.Series, str]] = {}
    failing_by_column: dict[str, np.ndarray] = {}
    for o in outcomes:
        severity = _severity(spec, o)
        rid = o.id or (f"{o.column}.{o.rule}" if o.column is not None else o.rule)
        message = o.message
        if not o.passed and severity == "quarantine":
            if o.coerced is not None and o.column is not None:
                # A column that arrived as another type: the clean rows get it converted.
                coerced[o.column] = (o.coerced, spec.columns[o.column].dtype or "any")
                quarantine.append((rid, o.mask if o.mask is not None else np.zeros(n, bool)))
            elif o.mask is None or o.rule not in ROW_RULES:
                severity = "error"  # nothing row-shaped to set aside: the step has to fail
                message += " (cannot be quarantined: no failing rows to set aside)"
            else:
                quarantine.append((rid, o.mask))
        examples: list[dict[str, Any]] = []
        if not o.passed and o.mask is not None:
            examples = _examples(df, o, o.mask, max_examples)
            if o.column is not None:
                prior = failing_by_column.get(o.column)
                failing_by_column[o.column] = o.mask if prior is None else prior | o.mask
        status = "skipped" if o.skipped else "passed" if o.passed else "failed"
        fraction = None if o.failing is None else (o.failing / n if n else 0.0)
        results.append(
            RuleResult(
                rid,
                o.rule,
                o.column,
                severity,
                status,
                o.expectation,
                message,
                o.failing,
                fraction,
                examples,
                jsonable(o.observed),
            )
        )
    report = ValidationReport(
        contract=spec.name or spec.source,
        verdict=_verdict(results),
        n_rows=n,
        n_columns=len(df.columns),
        rules=results,
        validated_at=time.time(),
    )
    report.charts = {c: _chart(df, c, m, outcomes) for c, m in failing_by_column.items()}
    if quarantine:
        hit = np.zeros(n, dtype=bool)
        for _, mask in quarantine:
            hit |= mask
        positions = np.flatnonzero(hit)
        reasons = np.full(positions.size, "", dtype=object)
        for rid, mask in quarantine:
            sel = mask[positions]
            reasons[sel] = reasons[sel] + np.where(reasons[sel] == "", rid, "; " + rid)
        report.quarantined_rows = int(positions.size)
        report._positions, report._reasons, report._coerced = positions, reasons, coerced
    return report


def _chart(df: pd.DataFrame, column: str, mask: np.ndarray, outcomes: list[Outcome]) -> Any:
    series = df[column]
    if isinstance(series, pd.DataFrame):
        series = series.iloc[:, 0]
    converted = next(
        (o.coerced for o in outcomes if o.column == column and o.coerced is not None), None
    )
    view = View(converted if converted is not None else series)
    numbers = view.array().astype("float64") if view.kind in ("int", "float") else None
    return chart_data(series, mask, numbers)


def _verdict(results: list[RuleResult]) -> str:
    failed = {r.severity for r in results if r.failed}
    for severity, verdict in (
        ("error", "failed"),
        ("quarantine", "quarantined"),
        ("warn", "warned"),
    ):
        if severity in failed:
            return verdict
    return "passed"


__all__ = ["MAX_EXAMPLES", "accepted_row_counts", "validate"]
