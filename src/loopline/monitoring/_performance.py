"""Delayed labels: outcomes joined to captured predictions by request id, and performance
(AUC, F1, calibration error… or MAE, RMSE…) per prediction window and per slice.

Labels are kept beside the capture, in `<home>/labels/<model>/<id>.parquet` (request_id, row,
label as JSON so its type survives, ingested_at, ingested_by, source); a later label for the
same prediction replaces an earlier one. The window of a labelled row is the window of its
*prediction*. Each ingested file can be listed and removed again by its id; ingesting and
removing are audited (`labels.ingested`, `labels.removed`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from loopline.config import current_user, load_settings
from loopline.errors import InvalidInputError, NotFoundError
from loopline.monitoring._data import Scored
from loopline.registry import classification_metrics, read_table, regression_metrics

MIN_LABELLED = 10
MAX_SLICE_VALUES = 10
LABEL_COLUMNS = ["request_id", "row", "label", "ingested_at"]
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


@dataclass(frozen=True)
class LabelsIngested:
    model: str
    rows: int
    matched: int
    path: Path
    id: str = ""


@dataclass(frozen=True)
class LabelFile:
    """One ingested labels file: `id` names it in `loopline monitors labels remove`."""

    id: str
    model: str
    source: str  # the name of the file it was ingested from ("" for files from before)
    rows: int
    ingested_at: float
    ingested_by: str  # "" for files from before it was recorded
    path: Path

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "model": self.model,
            "source": self.source,
            "rows": self.rows,
            "ingested_at": self.ingested_at,
            "ingested_by": self.ingested_by,
        }


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
    one bad file must never break every later `monitors run`."""
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
    _check_name("model", model)
    actor = current_user()
    source = Path(path).name
    out = pd.DataFrame(
        {
            "request_id": ids,
            "row": frame["row"].astype("int64") if "row" in frame.columns else -1,
            "label": [json.dumps(_scalar(v)) for v in frame[label]],
            "ingested_at": time.time(),
            "ingested_by": actor,
            "source": source,
        }
    )
    folder = home / "labels" / model
    folder.mkdir(parents=True, exist_ok=True)
    # Time first (ids sort as ingested); the random part keeps two files of one millisecond
    # from replacing each other.
    target = folder / f"{int(time.time() * 1000)}-{os.getpid()}-{secrets.token_hex(3)}.parquet"
    tmp = folder / f".{target.name}.tmp"
    out.to_parquet(tmp, index=False)
    os.replace(tmp, target)  # readers never see half a file
    try:
        _audit(model, "ingested", target.stem, len(out), source, actor)
    except BaseException:
        target.unlink(missing_ok=True)  # not recorded, not kept
        raise
    return LabelsIngested(model, len(out), matched, target, target.stem)


def _check_name(what: str, name: str) -> None:
    """Model names and label ids become path parts: plain names only."""
    if not _PLAIN_NAME.fullmatch(name):
        raise InvalidInputError(
            f"{what} {name!r} is not a plain name",
            hint="use letters, digits, '.', '_' and '-' (see `loopline monitors labels list`)",
        )


def _audit(model: str, action: str, labels_id: str, rows: int, source: str, actor: str) -> None:
    from loopline.store import open_metadata_store

    open_metadata_store().record_labels_change(
        model, action=action, labels_id=labels_id, rows=rows, source=source, actor=actor
    )


def _label_file(model: str, path: Path) -> LabelFile:
    meta = pq.ParquetFile(path)
    names = set(meta.schema_arrow.names)
    wanted = [c for c in ("ingested_at", "ingested_by", "source") if c in names]
    first: dict[str, Any] = {}
    if wanted and meta.metadata.num_rows:
        batch = next(meta.iter_batches(batch_size=1, columns=wanted))
        first = {k: v[0] for k, v in batch.to_pydict().items()}
    at = first.get("ingested_at")
    return LabelFile(
        id=path.stem,
        model=model,
        source=str(first.get("source") or ""),
        rows=int(meta.metadata.num_rows),
        ingested_at=float(at) if at is not None else path.stat().st_mtime,
        ingested_by=str(first.get("ingested_by") or ""),
        path=path,
    )


def list_labels(model: str | None = None) -> list[LabelFile]:
    """The labels files ingested (for `model`, or every model), oldest first."""
    root = load_settings().home / "labels"
    if model is not None:
        _check_name("model", model)
    folders = [root / model] if model is not None else sorted(root.glob("*"))
    found = [
        _label_file(folder.name, f)
        for folder in folders
        if folder.is_dir()
        for f in sorted(folder.glob("*.parquet"))
    ]
    return sorted(found, key=lambda x: (x.ingested_at, x.model, x.id))


def remove_labels(labels_id: str, *, model: str | None = None) -> LabelFile:
    """Remove one ingested labels file by its id (audited as `labels.removed`); the next
    `monitors run` no longer sees its labels."""
    _check_name("labels id", labels_id)
    hits = [f for f in list_labels(model) if f.id == labels_id]
    if not hits:
        where = f" of {model}" if model is not None else ""
        raise NotFoundError(
            f"no labels file {labels_id!r}{where}", hint="see `loopline monitors labels list`"
        )
    if len(hits) > 1:
        raise InvalidInputError(
            f"labels id {labels_id!r} names files of several models "
            f"({', '.join(sorted(h.model for h in hits))})",
            hint="pass --model",
        )
    (hit,) = hits
    # Out of the readers' sight first (they read *.parquet), audited, then gone; a refused
    # audit puts the file back, so a removal is never unrecorded.
    hidden = hit.path.with_name(f".{hit.path.name}.removing")
    os.replace(hit.path, hidden)
    try:
        _audit(hit.model, "removed", hit.id, hit.rows, hit.source, current_user())
    except BaseException:
        os.replace(hidden, hit.path)
        raise
    with contextlib.suppress(FileNotFoundError):
        hidden.unlink()
    return hit


def load_labels(home: Path, model: str) -> pd.DataFrame:
    files = sorted((home / "labels" / model).glob("*.parquet"))
    if not files:
        return pd.DataFrame(columns=LABEL_COLUMNS)
    labels = pd.concat([pd.read_parquet(f, columns=LABEL_COLUMNS) for f in files])
    labels = labels.reset_index(drop=True)
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
    "LabelFile",
    "LabelsIngested",
    "ingest_labels",
    "join_labels",
    "list_labels",
    "load_labels",
    "performance_by_window",
    "remove_labels",
]
