"""Label checks for training data: target present, class balance, leakage, split overlap.

Leakage is a heuristic, so its default severity is `warn`: a suspect is a column that predicts
the target almost perfectly on its own (a one-feature classifier scored on the data), whose
name says it is only known after the outcome, or whose timestamps fall after the `as_of`
(prediction-time) column.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from loopline.data._contract import Labels, Leakage
from loopline.data._dtypes import kind_of
from loopline.data._rules import Outcome

# Words in a column name that say its value is only known once the outcome happened.
AFTER_WORDS = frozenset(
    [
        "after",
        "post",
        "outcome",
        "future",
        "cancel",
        "cancelled",
        "canceled",
        "cancellation",
        "churned",
        "closed",
        "closure",
        "refund",
        "refunded",
        "chargeback",
        "resolution",
        "resolved",
        "label",
        "target",
    ]
)
MIN_ROWS = 30  # below this, a "perfect" one-feature fit is as likely luck as leakage
MIN_ROWS_PER_VALUE = 10
LEAKAGE_SAMPLE = 200_000  # rows: the one-feature scores are stable well before this
_BINS, _TOP = 20, 50


def _words(name: str) -> set[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return {w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w}


def _codes(x: pd.Series) -> np.ndarray:
    """Small-integer codes for a feature: quantile bins or top categories, nulls their own."""
    kind = kind_of(x.dtype)
    if kind in ("int", "float", "datetime") and x.nunique(dropna=True) > _BINS:
        numbers = x.astype("int64") if kind == "datetime" else x
        binned = pd.qcut(numbers, _BINS, labels=False, duplicates="drop")
        codes = np.array(binned.to_numpy(dtype="float64", na_value=np.nan))  # writable
    else:
        raw, uniques = pd.factorize(x, use_na_sentinel=True)
        codes = raw.astype("float64")
        codes[raw < 0] = np.nan
        if len(uniques) > _TOP:  # ids and free text carry no per-value signal here
            top = pd.Series(raw[raw >= 0]).value_counts().index[:_TOP].to_numpy()
            codes[(raw >= 0) & ~np.isin(raw, top)] = _TOP + 1
    top_code = int(np.nanmax(codes)) + 1 if np.isfinite(codes).any() else 0
    codes[np.isnan(codes)] = top_code  # null is a value of its own: missingness can leak
    return codes.astype("int64")


def _auc_score(x: pd.Series, y: np.ndarray) -> float:
    """|2·AUC - 1| of a numeric feature against a binary target (0 = useless, 1 = perfect)."""
    present = x.notna().to_numpy()
    values, target = x[present], y[present]
    pos = int(target.sum())
    neg = target.size - pos
    if pos == 0 or neg == 0:
        return 0.0
    ranks = values.rank(method="average").to_numpy()
    auc = (ranks[target == 1].sum() - pos * (pos + 1) / 2) / (pos * neg)
    return float(abs(2 * auc - 1))


def _purity_score(codes: np.ndarray, y: np.ndarray, k: int) -> float:
    """How much better than the majority class a per-value majority vote does (0..1)."""
    if y.size < MIN_ROWS_PER_VALUE * (int(codes.max()) + 1):
        return 0.0  # too few rows per value: any feature would look perfect by chance
    table = np.bincount(codes * k + y, minlength=(int(codes.max()) + 1) * k).reshape(-1, k)
    accuracy = table.max(axis=1).sum() / y.size
    base = np.bincount(y, minlength=k).max() / y.size
    return float((accuracy - base) / (1 - base)) if base < 1 else 0.0


def leakage_suspects(
    df: pd.DataFrame,
    target: str,
    threshold: float = 0.98,
    as_of: str | None = None,
    exclude: Sequence[str] = (),
    check_names: bool = True,
) -> list[dict[str, Any]]:
    """Columns that look like they leak the target: [{column, reason, score?}]."""
    if target not in df.columns:
        return []
    frame = df[df[target].notna()]
    if len(frame) > LEAKAGE_SAMPLE:
        frame = frame.sample(LEAKAGE_SAMPLE, random_state=0)
    y, classes = pd.factorize(frame[target])
    k = len(classes)
    skip = {target, *exclude}
    suspects: list[dict[str, Any]] = []
    target_words = _words(target)
    cutoff = None
    if as_of is not None and as_of in frame.columns:
        cutoff = pd.to_datetime(frame[as_of], errors="coerce", utc=True)
    for col in frame.columns:
        if col in skip or col == as_of:
            continue
        name = str(col)
        x = frame[col]
        if k >= 2 and len(frame) >= MIN_ROWS:
            score = _purity_score(_codes(x), y, k)
            if k == 2 and kind_of(x.dtype) in ("int", "float", "bool"):
                score = max(score, _auc_score(x.astype("float64"), y))
            if score >= threshold:
                suspects.append(
                    {"column": name, "reason": f"predicts {target!r} alone", "score": score}
                )
                continue
        words = _words(name)
        if check_names and (words & AFTER_WORDS or (target_words and target_words <= words)):
            suspects.append(
                {"column": name, "reason": "its name says it is known after the outcome"}
            )
            continue
        if cutoff is not None and kind_of(x.dtype) == "datetime":
            stamps = pd.to_datetime(x, utc=True)
            later = float((stamps > cutoff).mean())
            if later > 0.01:
                suspects.append(
                    {"column": name, "reason": f"later than {as_of!r} in {later:.0%} of rows"}
                )
    return suspects


def train_test_overlap(train: pd.DataFrame, test: pd.DataFrame, keys: Sequence[str]) -> np.ndarray:
    """Mask over `test` rows whose key also appears in `train` (rows with a null key never do)."""
    cols = list(keys)
    if len(cols) == 1:
        hit = test[cols[0]].isin(train[cols[0]].dropna()).to_numpy(dtype=bool)
    else:
        index = pd.MultiIndex.from_frame(train[cols].dropna())
        hit = np.asarray(pd.MultiIndex.from_frame(test[cols]).isin(index), dtype=bool)
    out: np.ndarray = hit & test[cols].notna().all(axis=1).to_numpy()
    return out


def _fail(rule: str, expect: str, message: str, sev: str | None, **obs: Any) -> Outcome:
    return Outcome(rule, None, expect, False, message=message, observed=obs, severity=sev)


def label_checks(df: pd.DataFrame, labels: Labels, holdout: pd.DataFrame | None) -> list[Outcome]:
    target, sev, out = labels.target, labels.severity, []
    expect = f"target {target!r} present, ≤ {labels.max_null_fraction:.0%} null"
    if target not in df.columns:
        return [_fail("labels.target", expect, f"target column {target!r} is missing", sev)]
    y = df[target]
    frac = float(y.isna().mean()) if len(y) else 0.0
    if frac > labels.max_null_fraction:
        msg = f"{frac:.2%} of target {target!r} is null"
        out.append(_fail("labels.target", expect, msg, sev, null_fraction=frac))
    else:
        out.append(Outcome("labels.target", None, expect, True, severity=sev))
    if labels.classes is not None or labels.min_class_fraction or labels.max_class_fraction:
        out.append(_balance(y, labels))
    if labels.leakage is not None:
        out.append(_leakage(df, target, labels.leakage))
    if labels.split_keys and holdout is not None:
        out.append(_overlap(df, holdout, labels.split_keys, sev))
    return out


def _balance(y: pd.Series, labels: Labels) -> Outcome:
    lo, hi = labels.min_class_fraction, labels.max_class_fraction
    expect = f"class fractions in [{lo or 0:g}, {hi if hi is not None else 1:g}]"
    fractions = {str(k): float(v) for k, v in y.value_counts(normalize=True).items()}
    for c in labels.classes or []:
        fractions.setdefault(str(c), 0.0)
    problems = []
    if labels.classes is not None:
        unexpected = sorted(set(fractions) - {str(c) for c in labels.classes})
        if unexpected:
            problems.append(f"unexpected classes {unexpected}")
    problems += [f"{c!r} is {f:.1%} < {lo:.1%}" for c, f in fractions.items() if lo and f < lo]
    problems += [f"{c!r} is {f:.1%} > {hi:.1%}" for c, f in fractions.items() if hi and f > hi]
    sev = labels.severity
    if problems:
        return _fail("labels.class_balance", expect, "; ".join(problems), sev, fractions=fractions)
    return Outcome(
        "labels.class_balance", None, expect, True, observed={"fractions": fractions}, severity=sev
    )


def _leakage(df: pd.DataFrame, target: str, rule: Leakage) -> Outcome:
    suspects = leakage_suspects(
        df, target, rule.threshold, rule.as_of, rule.exclude, rule.check_names
    )
    expect = f"no feature leaks {target!r}"
    sev = rule.severity or "warn"
    if not suspects:
        return Outcome("labels.leakage", None, expect, True, severity=sev)
    shown = "; ".join(f"{s['column']!r} ({s['reason']})" for s in suspects[:5])
    msg = f"{len(suspects)} leakage suspect(s): {shown}"
    return _fail("labels.leakage", expect, msg, sev, suspects=suspects)


def _overlap(df: pd.DataFrame, holdout: pd.DataFrame, keys: list[str], sev: str | None) -> Outcome:
    expect = f"no holdout key ({', '.join(keys)}) also in the training data"
    missing = [k for k in keys if k not in df.columns or k not in holdout.columns]
    if missing:
        return _fail("labels.overlap", expect, f"split keys {missing} missing", sev)
    hit = train_test_overlap(df, holdout, keys)
    count = int(hit.sum())
    if count == 0:
        return Outcome("labels.overlap", None, expect, True, severity=sev)
    msg = f"{count:,} of {len(holdout):,} holdout rows share their key with training rows"
    return _fail("labels.overlap", expect, msg, sev, overlapping_rows=count)


__all__ = ["AFTER_WORDS", "label_checks", "leakage_suspects", "train_test_overlap"]
