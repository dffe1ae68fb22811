"""Table rules: the column list, row counts and their trend, freshness, keys, expressions."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from loopline.data._contract import (
    Contract,
    Expression,
    Freshness,
    RowCount,
    RowCountTrend,
    UniqueKeys,
    parse_duration,
)
from loopline.data._expr import evaluate_expression, expression_columns
from loopline.data._rules import Outcome


def _missing(
    rule: str, expect: str, columns: Sequence[str], severity: str | None, label: str = ""
) -> Outcome:
    names = ", ".join(repr(c) for c in columns)
    return Outcome(
        rule,
        None,
        expect,
        False,
        message=f"{label or rule} needs column{'s' if len(columns) > 1 else ''} {names}, "
        "which the data does not have",
        observed={"missing_columns": list(columns)},
        severity=severity,
    )


def exact_columns(df: pd.DataFrame, contract: Contract) -> Outcome:
    extra = [str(c) for c in df.columns if c not in contract.columns]
    expect = f"exactly the {len(contract.columns)} contract columns"
    if not extra:
        return Outcome("columns", None, expect, True)
    shown = ", ".join(repr(c) for c in extra[:5]) + (" …" if len(extra) > 5 else "")
    return Outcome(
        "columns",
        None,
        expect,
        False,
        None,
        None,
        f"{len(extra)} column(s) not in the contract: {shown}",
        {"extra_columns": extra},
    )


def row_count(n: int, rule: RowCount) -> Outcome:
    expect = f"row count in [{rule.min or 0}, {'inf' if rule.max is None else rule.max}]"
    low = rule.min is not None and n < rule.min
    high = rule.max is not None and n > rule.max
    if not (low or high):
        return Outcome(
            "row_count", None, expect, True, observed={"rows": n}, severity=rule.severity
        )
    bound = f"at least {rule.min:,}" if low else f"at most {rule.max:,}"
    return Outcome(
        "row_count",
        None,
        expect,
        False,
        None,
        None,
        f"{n:,} rows, contract says {bound}",
        {"rows": n},
        severity=rule.severity,
    )


def row_count_trend(n: int, rule: RowCountTrend, history: Sequence[int] | None) -> Outcome:
    expect = f"row count within ±{rule.tolerance:.0%} of the last {rule.window} accepted batches"
    recent = list(history or [])[: rule.window]
    if len(recent) < rule.min_batches:
        return Outcome(
            "row_count_trend",
            None,
            expect,
            True,
            skipped=True,
            severity=rule.severity,
            message=f"only {len(recent)} accepted batch(es) so far; the trend is checked from "
            f"{rule.min_batches}",
            observed={"rows": n, "batches": len(recent)},
        )
    mean = float(np.mean(recent))
    change = (n - mean) / mean if mean else (0.0 if n == 0 else float("inf"))
    observed = {"rows": n, "mean": mean, "change": change, "batches": len(recent)}
    if abs(change) <= rule.tolerance:
        return Outcome(
            "row_count_trend", None, expect, True, observed=observed, severity=rule.severity
        )
    return Outcome(
        "row_count_trend",
        None,
        expect,
        False,
        None,
        None,
        f"{n:,} rows is {change:+.1%} against the mean of the last {len(recent)} accepted "
        f"batches ({mean:,.0f})",
        observed,
        severity=rule.severity,
    )


def freshness(df: pd.DataFrame, rule: Freshness, now: pd.Timestamp) -> Outcome:
    max_age = parse_duration(rule.max_age)
    expect = f"newest {rule.column} at most {rule.max_age} old"
    if rule.column not in df.columns:
        return _missing("freshness", expect, [rule.column], rule.severity)
    stamps = df[rule.column]
    if not pd.api.types.is_datetime64_any_dtype(stamps.dtype):
        stamps = pd.to_datetime(stamps.astype("object"), errors="coerce", utc=True, format="mixed")
    newest = stamps.max()
    if pd.isna(newest):
        return Outcome(
            "freshness",
            None,
            expect,
            False,
            None,
            None,
            f"column {rule.column!r} has no timestamps",
            {},
            severity=rule.severity,
        )
    newest = pd.Timestamp(newest)
    newest = newest.tz_localize("UTC") if newest.tzinfo is None else newest.tz_convert("UTC")
    age = now - newest
    observed = {"newest": newest.isoformat(), "age_s": age.total_seconds()}
    if age <= max_age:
        return Outcome("freshness", None, expect, True, observed=observed, severity=rule.severity)
    return Outcome(
        "freshness",
        None,
        expect,
        False,
        None,
        None,
        f"newest {rule.column!r} is {newest.isoformat()}, {age} old; contract allows "
        f"{rule.max_age}",
        observed,
        severity=rule.severity,
    )


def unique_keys(df: pd.DataFrame, rule: UniqueKeys) -> Outcome:
    keys = list(rule.columns)
    expect = f"no duplicate keys ({', '.join(keys)})"
    missing = [k for k in keys if k not in df.columns]
    if missing:
        return _missing("unique_keys", expect, missing, rule.severity)
    frame = df[keys]
    any_null = frame.isna().any(axis=1).to_numpy() if frame.isna().to_numpy().any() else None
    dup = frame.duplicated(keep=False).to_numpy(dtype=bool)
    if any_null is not None:  # a key with a null in it never equals another key
        dup = dup & ~any_null
    count = int(np.count_nonzero(dup))
    if count == 0:
        return Outcome("unique_keys", None, expect, True, 0, severity=rule.severity)
    return Outcome(
        "unique_keys",
        None,
        expect,
        False,
        count,
        dup,
        f"{count:,} rows share their key ({', '.join(keys)}) with another row",
        {"columns": keys},
        severity=rule.severity,
    )


def expression(df: pd.DataFrame, rule: Expression) -> Outcome:
    expect = rule.expr
    missing = sorted(c for c in expression_columns(rule.expr) if c not in df.columns)
    rid = f"expr.{rule.name}"
    if missing:
        out = _missing("expr", expect, missing, rule.severity, f"expression {rule.name!r}")
        out.id = rid
        return out
    try:
        ok = evaluate_expression(df, rule.expr)
    except Exception as exc:  # e.g. comparing text with a number inside pandas
        return Outcome(
            "expr",
            None,
            expect,
            False,
            message=f"expression {rule.name!r} could not be evaluated: {exc}",
            severity=rule.severity,
            id=rid,
        )
    bad = ~ok
    count = int(np.count_nonzero(bad))
    if count == 0:
        return Outcome("expr", None, expect, True, 0, severity=rule.severity, id=rid)
    return Outcome(
        "expr",
        None,
        expect,
        False,
        count,
        bad,
        f"{count:,} rows break {rule.name!r} ({rule.expr})",
        {"columns": sorted(expression_columns(rule.expr))},
        severity=rule.severity,
        id=rid,
    )


__all__ = [
    "exact_columns",
    "expression",
    "freshness",
    "row_count",
    "row_count_trend",
    "unique_keys",
]
