"""Training-serving skew: the same feature as the training path computed it and as serving saw
it. Two modes:

- keyed (a shared id column, e.g. request_id): row by row, the share of rows whose values
  differ (numbers beyond `rtol`/`atol`, anything else as text; a null on one side only counts
  as a difference). A column is skewed when more than `max_mismatch` (1%) of rows differ.
  This catches features *computed differently* offline and online, even when the two
  distributions happen to look alike. Rows are joined on (key, `row`) when both sides have a
  `row` column (a row's position in its request, as the capture records it), so each row of
  a multi-row request meets its own training row; a key that names several rows on either
  side without `row` is refused rather than compared with every other row of its request.
  The same (key, row) captured twice (a retried request) is compared once, the last capture.
- unkeyed: the distributions are compared with the drift statistics; a column is skewed at a
  warning or worse (PSI >= 0.1 by default).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from loopline.errors import InvalidInputError
from loopline.monitoring._reference import Threshold, judge
from loopline.stats import column_drift, reference_from_values

MAX_MISMATCH = 0.01
ROW = "row"  # a row's position in its request, as the capture records it


def _mismatch(a: pd.Series, b: pd.Series, rtol: float, atol: float) -> np.ndarray[Any, Any]:
    null_a, null_b = a.isna().to_numpy(), b.isna().to_numpy()
    numeric = pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b)
    if numeric:
        x = a.to_numpy(dtype="float64", na_value=np.nan)
        y = b.to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            differ = ~np.isclose(x, y, rtol=rtol, atol=atol)
    else:
        differ = (a.astype(str) != b.astype(str)).to_numpy()
    out: np.ndarray[Any, Any] = np.where(null_a | null_b, null_a != null_b, differ)
    return out


def _keyed(frame: pd.DataFrame, on: list[str], side: str) -> pd.DataFrame:
    """`frame` with its join key as text and `row` as whole numbers (refused otherwise)."""
    frame = frame.assign(**{on[0]: frame[on[0]].astype(str)})
    if ROW in on:
        rows = pd.to_numeric(frame[ROW], errors="coerce")
        if rows.isna().any() or (rows < 0).any() or (rows % 1 != 0).any():
            raise InvalidInputError(
                f"the {side} data's column 'row' must hold whole numbers >= 0 (the row's "
                "position in its request)",
                hint="use 0 for the first row of a request",
            )
        frame = frame.assign(**{ROW: rows.astype("int64")})
    return frame


def _refuse_ambiguous(
    training: pd.DataFrame, serving: pd.DataFrame, key: str, on: list[str]
) -> None:
    """A key naming several rows cannot be joined row by row: say so instead of comparing
    every row of a request with every other row of it."""
    if ROW in on:
        dup = int(training.duplicated(on).sum())
        if dup:
            raise InvalidInputError(
                f"{dup} training row(s) repeat the ({key}, row) of an earlier one",
                hint="the features file should hold each served row once",
            )
        return
    sides = (("training", training), ("serving", serving))
    for side, frame in sides:
        several = frame[key][frame[key].duplicated()].unique()
        if len(several):
            missing = " and the ".join(s for s, f in sides if ROW not in f.columns)
            raise InvalidInputError(
                f"{len(several)} request(s) have several rows in the {side} data (e.g. "
                f"{several[0]!r}) and the {missing} data has no 'row' column",
                hint="add a 'row' column (0-based, the row's position in its request) so each "
                "row joins its own",
            )


def skew_report(
    training: pd.DataFrame,
    serving: pd.DataFrame,
    *,
    key: str | None = None,
    columns: list[str] | None = None,
    max_mismatch: float = MAX_MISMATCH,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    thresholds: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Per shared column: how training and serving values differ, and whether that is skew."""
    shared = [c for c in (columns or list(training.columns)) if c in serving.columns and c != key]
    if not shared:
        raise InvalidInputError(
            "the training and serving data share no feature column",
            hint="compare the features file written by the training pipeline with this model",
        )
    out: dict[str, Any] = {"columns": {}}
    if key is not None:
        for side, frame in (("training", training), ("serving", serving)):
            if key not in frame.columns:
                raise InvalidInputError(f"the {side} data has no {key!r} column", hint="--key")
        on = [key, ROW] if ROW in training.columns and ROW in serving.columns else [key]
        shared = [c for c in shared if c not in on]
        if not shared:
            raise InvalidInputError(
                "the training and serving data share no feature column besides the join columns",
                hint="compare the features file written by the training pipeline",
            )
        training, serving = _keyed(training, on, "training"), _keyed(serving, on, "serving")
        _refuse_ambiguous(training, serving, key, on)
        serving = serving.drop_duplicates(on, keep="last")
        joined = training.merge(serving, on=on, suffixes=("", "__serving"))
        out.update(mode="keyed", key=key, on=on, rows=len(joined))
        for c in shared:
            differ = _mismatch(joined[c], joined[f"{c}__serving"], rtol, atol)
            share = float(differ.mean()) if len(differ) else 0.0
            out["columns"][c] = {
                "mismatch": share,
                "rows_differing": int(differ.sum()),
                "skewed": share > max_mismatch,
            }
    else:
        th = Threshold.parse(thresholds)
        out.update(mode="distribution", rows=len(serving))
        for c in shared:
            stats = column_drift(reference_from_values(training[c]), serving[c])
            verdict = judge(stats, th)
            out["columns"][c] = {
                "psi": stats.get("psi"),
                "ks": stats.get("ks"),
                "status": verdict["status"],
                "skewed": verdict["status"] in ("warning", "critical"),
            }
    out["skewed"] = [c for c, v in out["columns"].items() if v["skewed"]]
    return out


__all__ = ["MAX_MISMATCH", "skew_report"]
