"""What monitoring reads: captured predictions (or a batch-scored file), cut into windows.

Capture files live in `<home>/capture/<model>/<YYYY-MM-DD>/*.parquet` (see
`loopline.serving._capture`); only the day folders a run needs are read. The `inputs` column
holds each row's features as a JSON object and is expanded into one column per feature.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loopline.errors import InvalidInputError
from loopline.store import window_seconds

META = ("request_id", "row", "ts", "version", "arm", "latency_ms", "prediction", "probability")


def window_starts(ts: np.ndarray[Any, Any], seconds: int) -> np.ndarray[Any, Any]:
    """Each timestamp's window start, aligned to the epoch (so 1d windows are UTC days)."""
    return np.floor(np.asarray(ts, dtype="float64") / seconds) * seconds


@dataclass(frozen=True)
class Scored:
    """Rows to monitor: `meta` (META columns, NaN where unknown) and `inputs`, same index."""

    meta: pd.DataFrame
    inputs: pd.DataFrame

    def __len__(self) -> int:
        return len(self.meta)

    def take(self, mask: Any) -> Scored:
        return Scored(self.meta[mask], self.inputs[mask])


def _expand(inputs: pd.Series) -> pd.DataFrame:
    records = [json.loads(s) if isinstance(s, str) else {} for s in inputs]
    return pd.DataFrame.from_records(records, index=inputs.index)


def _day(ts: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ts))


def load_capture(folder: Path, model: str, since: float | None = None) -> Scored:
    """Captured rows of `model` with ts ≥ `since` (all when None)."""
    root = folder / model
    days = sorted(p for p in root.glob("*") if p.is_dir()) if root.is_dir() else []
    if since is not None:
        first = _day(since)
        days = [d for d in days if d.name >= first]
    files = [f for d in days for f in sorted(d.glob("*.parquet"))]
    if not files:
        empty = pd.DataFrame({c: pd.Series(dtype="float64") for c in META})
        return Scored(empty, pd.DataFrame(index=empty.index))
    raw = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    if since is not None:
        raw = raw[raw["ts"] >= since].reset_index(drop=True)
    meta = raw[[c for c in META if c in raw.columns]].copy()
    meta["prediction"] = [json.loads(p) if isinstance(p, str) else p for p in meta["prediction"]]
    return Scored(meta, _expand(raw["inputs"]))


def load_scored(path: Path, prediction: str = "prediction") -> Scored:
    """A batch-scored file (Parquet or CSV): every column but the META ones is an input.
    Without a `ts` column all rows fall in one window at the file's modification time."""
    if not path.exists():
        raise InvalidInputError(f"{path} does not exist", hint="pass a Parquet or CSV file")
    frame = pd.read_parquet(path) if path.suffix in (".parquet", ".pq") else pd.read_csv(path)
    if prediction != "prediction" and prediction in frame.columns:
        frame = frame.rename(columns={prediction: "prediction"})
    meta = pd.DataFrame(index=frame.index)
    for c in META:
        meta[c] = frame[c] if c in frame.columns else np.nan
    if "ts" not in frame.columns:
        meta["ts"] = path.stat().st_mtime
    if "request_id" not in frame.columns:
        meta["request_id"] = [f"{path.name}:{i}" for i in range(len(frame))]
    inputs = frame[[c for c in frame.columns if c not in META]]
    return Scored(meta, inputs)


__all__ = ["META", "Scored", "load_capture", "load_scored", "window_seconds", "window_starts"]
