"""Column signals: checks on a window's columns that drift statistics cannot see, judged
against the training profile (`null_count`, `null_fraction`, `count`, `n_unique`, `top`,
`histogram`). Pure functions; `DriftMonitor` stores their results per window under
`result["signals"][column][signal]` and `drift_findings` raises them as alerts.

- `null_rate` (warning / critical): the null fraction rose by ≥ 0.05 (warning) or ≥ 0.10
  (critical) in absolute terms over training, **and** the rise is significant (one-sided
  two-proportion z-test, p < 0.001), so noise in small windows never fires;
- `all_null` (critical): every row of a window of ≥ `min_rows` rows is null, the column was
  not always null in training, and that is improbable at the training null rate (p < 0.001);
- `constant` (critical): ≥ `min_rows` non-null values all equal, the column had ≥ 2 distinct
  values in training, and a constant window is improbable under the training frequencies
  (p < 0.001);
- `vanished_column` (critical): a monitored column of the signature is absent from the window;
- `new_column` (warning): a column with values in the window is neither in the signature nor
  in the training data.

A window with fewer than `min_rows` rows (non-null rows for `constant`) is `insufficient` for
the statistical checks: no verdict, no alert, nothing resolved. A breached `vanished_column`,
`all_null` or `constant` *explains* the column's other verdicts (`explained_by`): its drift
verdict and its null rate are not alerted separately for the same event.

Per-feature thresholds: `thresholds: {FEATURE or "*": {"null_rate": {"warn": 0.05,
"alert": 0.1}}}` in the monitor configuration.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from loopline.errors import InvalidInputError

NULL_RATE_WARN = 0.05
NULL_RATE_ALERT = 0.10
SIGNIFICANCE = 0.001  # p-value below which a change counts (guards small windows from noise)
COLUMN_SIGNALS = ("all_null", "constant", "null_rate")
SCHEMA_SIGNALS = ("vanished_column", "new_column")
SIGNALS = (*SCHEMA_SIGNALS, *COLUMN_SIGNALS)
EXPLAINING = ("vanished_column", "all_null", "constant")  # most specific first
SEVERITY = {
    "vanished_column": "critical",
    "all_null": "critical",
    "constant": "critical",
    "new_column": "warning",
}
_BAD = ("warning", "critical")


@dataclass(frozen=True)
class NullRateThreshold:
    """Absolute rise of the null fraction over training: `warn` → warning, `alert` → critical."""

    warn: float = NULL_RATE_WARN
    alert: float = NULL_RATE_ALERT

    @classmethod
    def parse(cls, spec: Mapping[str, Any] | None, where: str = "") -> NullRateThreshold:
        if spec is not None and not isinstance(spec, Mapping):
            raise InvalidInputError(
                f"null_rate thresholds{where} must be a mapping, got {spec!r}",
                hint="e.g. {'null_rate': {'warn': 0.05, 'alert': 0.1}}",
            )
        spec = dict(spec or {})
        unknown = sorted(set(spec) - {"warn", "alert"})
        if unknown:
            raise InvalidInputError(
                f"unknown null_rate setting(s){where}: {', '.join(unknown)}",
                hint="use warn and alert (absolute rise of the null fraction, 0..1)",
            )
        try:
            warn = float(spec.get("warn", cls.warn))
            alert = float(spec.get("alert", max(cls.alert, warn)))
        except (TypeError, ValueError):
            raise InvalidInputError(
                f"null_rate thresholds{where} must be numbers, got {spec!r}",
                hint="e.g. {'warn': 0.05, 'alert': 0.1}",
            ) from None
        if not 0 < warn <= alert <= 1:
            raise InvalidInputError(
                f"null_rate thresholds{where} need 0 < warn ≤ alert ≤ 1, "
                f"got warn={warn}, alert={alert}",
                hint="e.g. {'warn': 0.05, 'alert': 0.1}",
            )
        return cls(warn, alert)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def null_rate_pvalue(ref_nulls: int, ref_n: int, cur_nulls: int, cur_n: int) -> float:
    """One-sided p-value that the current null rate exceeds the reference one (pooled
    two-proportion z-test). 1.0 when either side is empty or nothing varies."""
    if ref_n <= 0 or cur_n <= 0:
        return 1.0
    p_ref, p_cur = ref_nulls / ref_n, cur_nulls / cur_n
    pooled = (ref_nulls + cur_nulls) / (ref_n + cur_n)
    se = math.sqrt(pooled * (1 - pooled) * (1 / ref_n + 1 / cur_n))
    if se == 0:
        return 1.0 if p_cur <= p_ref else 0.0
    z = (p_cur - p_ref) / se
    return 0.5 * math.erfc(z / math.sqrt(2))


def _ref_rows(profile: Mapping[str, Any], n_ref: int | None) -> tuple[int, int]:
    """(null rows, all rows) of the training column."""
    nulls = int(profile.get("null_count") or 0)
    if n_ref is None or n_ref < nulls:
        n_ref = nulls + int(profile.get("count") or 0)
    return nulls, int(n_ref)


def _mode_share(profile: Mapping[str, Any]) -> float | None:
    """An upper bound on the share of the training column's most frequent value (non-null):
    exact from a categorical top list; the fullest histogram bin for numbers; else the most
    a value could hold given the distinct count."""
    count = int(profile.get("count") or 0)
    if count <= 0:
        return None
    top = profile.get("top")
    if isinstance(top, Mapping) and top:
        return min(1.0, max(int(v) for v in top.values()) / count)
    hist = profile.get("histogram")
    counts = hist.get("counts") if isinstance(hist, Mapping) else None
    if counts:
        return min(1.0, max(int(c) for c in counts) / count)
    n_unique = int(profile.get("n_unique") or 0)
    if n_unique >= 2:
        return (count - (n_unique - 1)) / count
    return None


def _distinct(values: pd.Series) -> int:
    try:
        return int(values.nunique(dropna=True))
    except TypeError:  # unhashable values (lists from JSON): compare their text
        return int(values.dropna().astype(str).nunique())


def null_rate_signal(
    profile: Mapping[str, Any],
    nulls: int,
    n: int,
    threshold: NullRateThreshold,
    min_rows: int,
    n_ref: int | None = None,
) -> dict[str, Any]:
    ref_nulls, ref_n = _ref_rows(profile, n_ref)
    ref = ref_nulls / ref_n if ref_n else 0.0
    cur = nulls / n if n else 0.0
    out: dict[str, Any] = {
        "value": cur,
        "reference": ref,
        "increase": cur - ref,
        "nulls": nulls,
        "n": n,
        "warn": threshold.warn,
        "alert": threshold.alert,
    }
    if n < min_rows or ref_n == 0:
        return {**out, "status": "insufficient"}
    pvalue = null_rate_pvalue(ref_nulls, ref_n, nulls, n)
    rise = cur - ref
    level = "critical" if rise >= threshold.alert else "warning" if rise >= threshold.warn else "ok"
    significant = pvalue < SIGNIFICANCE
    return {
        **out,
        "pvalue": pvalue,
        "significant": significant,
        "status": level if significant else "ok",
    }


def all_null_signal(
    profile: Mapping[str, Any], nulls: int, n: int, min_rows: int, n_ref: int | None = None
) -> dict[str, Any]:
    ref_nulls, ref_n = _ref_rows(profile, n_ref)
    ref = ref_nulls / ref_n if ref_n else 0.0
    out: dict[str, Any] = {"value": nulls / n if n else 0.0, "reference": ref, "n": n}
    if n < min_rows or ref_n == 0:
        return {**out, "status": "insufficient"}
    chance = ref**n  # every row null by chance at the training null rate
    fired = nulls == n and ref < 1.0 and chance < SIGNIFICANCE
    return {**out, "pvalue": chance, "status": "critical" if fired else "ok"}


def constant_signal(
    profile: Mapping[str, Any], present: pd.Series, min_rows: int
) -> dict[str, Any]:
    """`present`: the window's non-null values."""
    m = len(present)
    ref_distinct = int(profile.get("n_unique") or 0)
    out: dict[str, Any] = {"n": m, "reference_distinct": ref_distinct}
    if m < min_rows:
        return {**out, "status": "insufficient"}
    distinct = _distinct(present)
    out["distinct"] = distinct
    share = _mode_share(profile)
    if distinct != 1 or ref_distinct < 2 or share is None:
        return {**out, "status": "ok"}
    chance = share ** (m - 1)  # ≥ Σ q_i^m: the chance that m training draws are all equal
    value = present.iloc[0]
    out.update(value=value if isinstance(value, int | float | str | bool) else str(value))
    return {**out, "pvalue": chance, "status": "critical" if chance < SIGNIFICANCE else "ok"}


def breached(signal: Mapping[str, Any] | None) -> bool:
    return bool(signal) and (signal or {}).get("status") in _BAD


def explaining(signals: Mapping[str, Mapping[str, Any]] | None) -> str | None:
    """The signal that explains this column's other verdicts (vanished, all null, constant)."""
    return next((s for s in EXPLAINING if breached((signals or {}).get(s))), None)


def column_signals(
    profile: Mapping[str, Any],
    values: pd.Series,
    threshold: NullRateThreshold,
    min_rows: int,
    n_ref: int | None = None,
) -> dict[str, dict[str, Any]]:
    """null_rate, all_null and constant of one window's column against its training profile."""
    missing = values.isna()
    n, nulls = len(values), int(missing.sum())
    out = {
        "all_null": all_null_signal(profile, nulls, n, min_rows, n_ref),
        "constant": constant_signal(profile, values[~missing], min_rows),
        "null_rate": null_rate_signal(profile, nulls, n, threshold, min_rows, n_ref),
    }
    cause = explaining(out)
    if cause is not None:
        for name, sig in out.items():
            if name != cause and breached(sig):
                sig["explained_by"] = cause
    return out


def schema_signals(
    window_columns: Mapping[str, pd.Series],
    expected: Iterable[str],
    watched: Iterable[str],
) -> dict[str, dict[str, dict[str, Any]]]:
    """Column → {vanished_column | new_column: {...}} for one window.

    `expected`: every column the model or its training data knows (a column outside it that
    carries values is new); `watched`: the monitored features (one absent from the window has
    vanished)."""
    known = set(expected)
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for c in watched:
        if c not in window_columns:
            out[c] = {"vanished_column": {"status": SEVERITY["vanished_column"]}}
    for c, values in window_columns.items():
        if c not in known and bool(values.notna().any()):
            out[c] = {
                "new_column": {
                    "status": SEVERITY["new_column"],
                    "n": int(values.notna().sum()),
                }
            }
    return out


__all__ = [
    "COLUMN_SIGNALS",
    "EXPLAINING",
    "NULL_RATE_ALERT",
    "NULL_RATE_WARN",
    "SCHEMA_SIGNALS",
    "SIGNALS",
    "SIGNIFICANCE",
    "NullRateThreshold",
    "all_null_signal",
    "breached",
    "column_signals",
    "constant_signal",
    "explaining",
    "null_rate_pvalue",
    "null_rate_signal",
    "schema_signals",
]
