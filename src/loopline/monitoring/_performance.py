"""Delayed labels: outcomes joined to captured predictions by request id, and performance
(AUC, F1, calibration error… or MAE, RMSE…) per prediction window and per slice.

Labels are kept beside the capture, in `<home>/labels/<model>/*.parquet` (request_id, row,
label as JSON so its type survives, ingested_at); a later label for the same prediction
replaces an earlier one. The window of a labelled row is the window of its *prediction*.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loopline.config import load_settings
from loopline.errors import InvalidInputError
from loopline.monitoring._data import Scored
from loopline.registry import classification_metrics, read_table, regression_metrics

MIN_LABELLED = 10
MAX_SLICE_VALUES = 10


@dataclass(frozen=True)
class LabelsIngested:
    model: str
    rows: int
    matched: int
    path: Path


def _scalar(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _capture_ids(home: Path, model: str) -> set[str]:
    ids: set[str] = set()
    for f in (home / "capture" / model).glob("*/*.parquet"):
        ids.update(pd.read_parquet(f, columns=["request_id"])["request_id"].astype(str))
    return ids


def _multi_row_ids(home: Path, model: str) -> set[str]:
    """Request ids whose request scored several rows (a label then needs its `row`)."""
    parts = [
        pd.read_parquet(f, columns=["request_id"])["request_id"].astype(str)
        for f in (home / "capture" / model).glob("*/*.parquet")
    ]
    if not parts:
        return set()
    counts = pd.concat(parts, ignore_index=True).value_counts()
    return set(counts[counts > 1].index)


def _check_labels(frame: pd.DataFrame, path: str | Path, key: str) -> None:
    """Refuse a labels file whole, before anything is stored, if it could not be joined:
    one bad file must never break every later `monitor run`."""
    if frame[key].isna().any():
        n = int(frame[key].isna().sum())
        raise InvalidInputError(
            f"{path}: {n} row(s) have no {key!r}", hint="every label needs its request id"
        )
    if "row" in frame.columns:
        rows = pd.to_numeric(frame["row"], errors="coerce")
        if rows.isna().any() or (rows < 0).any() or (rows % 1 != 0).any():
            raise InvalidInputError(
                f"{path}: column 'row' must hold whole numbers >= 0 (the row in the request)",
                hint="use 0 for the first row of a request",
            )


def ingest_labels(
    path: str | Path, *, key: str = "request_id", label: str = "label", model: str | None = None
) -> LabelsIngested:
    """Store the outcomes in `path` (Parquet/CSV with `key` and `label` columns, optionally
    `row` for multi-row requests) for `model` (guessed from the capture when omitted)."""
    frame = read_table(Path(path))
    missing = [c for c in (key, label) if c not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"{path} has no column {missing[0]!r} (columns: {', '.join(map(str, frame.columns))})",
            hint="name the columns with --key and --label",
        )
    _check_labels(frame, path, key)
    home = load_settings().home
    ids = frame[key].astype(str)
    if model is None:
        models = sorted(p.name for p in (home / "capture").glob("*") if p.is_dir())
        scores = {m: len(_capture_ids(home, m) & set(ids)) for m in models}
        if not scores or max(scores.values()) == 0:
            raise InvalidInputError(
                f"no captured prediction has a request id from {path}",
                hint="pass --model, and check that --key names the request id column",
            )
        model = max(scores, key=lambda m: scores[m])
    matched = len(_capture_ids(home, model) & set(ids))
    if "row" not in frame.columns:
        multi = _multi_row_ids(home, model) & set(ids)
        if multi:
            raise InvalidInputError(
                f"{path}: {len(multi)} labelled request(s) scored several rows (e.g. "
                f"{sorted(multi)[0]!r}) and the file has no 'row' column",
                hint="add a 'row' column (0-based, as in the request) so each label joins "
                "its own prediction",
            )
    out = pd.DataFrame(
        {
            "request_id": ids,
            "row": frame["row"].astype("int64") if "row" in frame.columns else -1,
            "label": [json.dumps(_scalar(v)) for v in frame[label]],
            "ingested_at": time.time(),
        }
    )
    folder = home / "labels" / model
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{int(time.time() * 1000)}-{os.getpid()}.parquet"
    tmp = folder / f".{target.name}.tmp"
    out.to_parquet(tmp, index=False)
    os.replace(tmp, target)  # readers never see half a file
    return LabelsIngested(model, len(out), matched, target)


def load_labels(home: Path, model: str) -> pd.DataFrame:
    files = sorted((home / "labels" / model).glob("*.parquet"))
    if not files:
        return pd.DataFrame(columns=["request_id", "row", "label", "ingested_at"])
    labels = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    return labels.sort_values("ingested_at").drop_duplicates(["request_id", "row"], keep="last")


def join_labels(rows: Scored, labels: pd.DataFrame) -> pd.DataFrame:
    """Captured rows with a `label` column (only rows that have one)."""
    meta = rows.meta.reset_index(drop=True)
    inputs = rows.inputs.reset_index(drop=True)
    meta = meta.assign(request_id=meta["request_id"].astype(str), _i=np.arange(len(meta)))
    by_row = labels[labels["row"] >= 0]
    whole = labels[labels["row"] < 0].drop(columns=["row"])
    parts = []
    if len(by_row):
        parts.append(meta.merge(by_row, on=["request_id", "row"]))
    if len(whole):
        multi = meta.groupby("request_id")["row"].transform("size") > 1
        if bool(multi[meta["request_id"].isin(whole["request_id"])].any()):
            raise InvalidInputError(
                "some labelled requests scored several rows and the labels have no `row` column",
                hint="add a `row` column (0-based, as in the request) to the labels file",
            )
        parts.append(meta.merge(whole, on="request_id"))
    if not parts:
        return meta.iloc[:0].assign(label=[])
    joined = pd.concat(parts, ignore_index=True).drop_duplicates("_i", keep="last")
    joined["label"] = [json.loads(v) for v in joined["label"]]
    return joined.merge(inputs, left_on="_i", right_index=True, suffixes=("", "_input"))


def _metrics(part: pd.DataFrame, kind: str, classes: list[Any] | None) -> dict[str, float]:
    y_pred = np.asarray([v[0] if isinstance(v, list) else v for v in part["prediction"]])
    y_true = np.asarray(list(part["label"]))
    if kind == "regression":
        return regression_metrics(y_true.astype("float64"), y_pred.astype("float64"))
    if y_pred.dtype.kind in "iufb" and y_true.dtype.kind not in "iufb":
        y_true = pd.to_numeric(pd.Series(y_true), errors="coerce").to_numpy()
    labels = classes or sorted({*y_true.tolist(), *y_pred.tolist()}, key=str)
    proba = None
    prob = part["probability"].to_numpy(dtype="float64") if "probability" in part else None
    if prob is not None and len(labels) == 2 and np.isfinite(prob).all():
        proba = np.column_stack([1 - prob, prob])
    return classification_metrics(y_true, y_pred, proba, list(labels))


def performance_by_window(
    joined: pd.DataFrame,
    seconds: int,
    kind: str,
    classes: list[Any] | None = None,
    slices: tuple[str, ...] = (),
) -> dict[float, dict[str, Any]]:
    """Window start → {n_labelled, metrics, slices: {column: {value: metrics}}}."""
    out: dict[float, dict[str, Any]] = {}
    if joined.empty:
        return out
    starts = np.floor(joined["ts"].to_numpy(dtype="float64") / seconds) * seconds
    for start in np.unique(starts):
        part = joined[starts == start]
        entry: dict[str, Any] = {"n_labelled": len(part)}
        if len(part) >= MIN_LABELLED:
            entry["metrics"] = _metrics(part, kind, classes)
        by_slice: dict[str, Any] = {}
        for col in slices:
            if col not in part.columns:
                continue
            top = part[col].astype(str).value_counts().index[:MAX_SLICE_VALUES]
            by_slice[col] = {
                str(v): {"n": int(n), **_metrics(g, kind, classes)}
                for v, g in part.groupby(part[col].astype(str))
                if v in top and (n := len(g)) >= MIN_LABELLED
            }
        if by_slice:
            entry["slices"] = by_slice
        out[float(start)] = entry
    return out


__all__ = [
    "LabelsIngested",
    "ingest_labels",
    "join_labels",
    "load_labels",
    "performance_by_window",
]
