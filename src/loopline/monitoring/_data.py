"""What monitoring reads: captured predictions (or a batch-scored file), cut into windows.

Capture files live in `<home>/capture/<model>/<YYYY-MM-DD>/*.parquet` (see
`loopline.serving._capture`); only the day folders a run needs are read. Two formats:
format 2 (schema metadata `loopline.capture: 2`) stores each input as a typed column
`inputs.<name>` and the prediction typed, so values read back as served, to the bit;
format 1 (earlier files) holds the row's features as a JSON object in `inputs` and the
prediction as JSON, expanded here into one column per feature.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from loopline.errors import InvalidInputError
from loopline.store import window_seconds

# The capture's format marker and input-column prefix (serving/_capture.py writes them).
FORMAT_KEY, TYPED_FORMAT, INPUT_PREFIX = b"loopline.capture", b"2", "inputs."
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


def read_capture_file(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(meta, inputs) of one capture file, either format; `prediction` holds Python or
    numpy scalars, a list per row for multi-output models."""
    table = pq.read_table(path)
    if (table.schema.metadata or {}).get(FORMAT_KEY) != TYPED_FORMAT:
        raw = table.to_pandas()
        meta = raw[[c for c in META if c in raw.columns]].copy()
        meta["prediction"] = [json.loads(p) if isinstance(p, str) else p for p in raw["prediction"]]
        if "inputs" not in raw.columns:
            return meta, pd.DataFrame(index=raw.index)
        return meta, _expand(raw["inputs"])
    names = [c for c in table.column_names if c.startswith(INPUT_PREFIX)]
    # integer_object_nulls: an int column with nulls reads as ints and None, not as floats
    # (which would round values beyond 2**53); pandas' metadata restores extension dtypes.
    inputs = table.select(names).to_pandas(integer_object_nulls=True)
    inputs.columns = pd.Index([c[len(INPUT_PREFIX) :] for c in names], dtype=object)
    meta = table.select([c for c in META if c in table.column_names]).to_pandas()
    prediction = table.column("prediction")
    if pa.types.is_fixed_size_list(prediction.type) or pa.types.is_list(prediction.type):
        meta["prediction"] = prediction.to_pylist()  # a list per row, as format 1 gave
    return meta, inputs


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
    metas, inputs = [], []
    for f in files:
        meta, values = read_capture_file(f)
        if since is not None:
            keep = (meta["ts"] >= since).to_numpy()
            meta, values = meta[keep], values[keep]
        metas.append(meta.reset_index(drop=True))
        inputs.append(values.reset_index(drop=True))
    meta = pd.concat(metas, ignore_index=True)
    return Scored(meta, _concat_inputs(inputs, meta.index))


def _concat_inputs(parts: list[pd.DataFrame], index: pd.Index) -> pd.DataFrame:
    """The files' inputs one under the other; a column a file lacks is null there."""
    parts = [p for p in parts if len(p)] or parts[:1]
    if not parts:
        return pd.DataFrame(index=index)
    if len(parts) > 1:
        parts = _exact_union(parts)
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return out.set_axis(index, axis=0)


def _exact_union(parts: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """Files of different schemas (a hot swap): where a column is an integer or bool in one
    file and absent or of another type in the next, concat would make it float64, exact
    only up to 2**53. Such a column stays numeric when that is exact, else becomes object
    (Python ints and bools, exact)."""
    seen: dict[Any, list[Any]] = {}
    for part in parts:
        for name, dtype in part.dtypes.items():
            seen.setdefault(name, []).append(dtype)
    out = []
    for part in parts:
        for name, dtype in part.dtypes.items():
            dtypes = seen[name]
            if len(dtypes) == len(parts) and all(d == dtype for d in dtypes):
                continue
            if not isinstance(dtype, np.dtype) or dtype.kind not in "iub":
                continue
            column = part[name].to_numpy()
            if dtype.kind == "b" or np.abs(column.astype("float64")).max() >= 2.0**53:
                part = part.copy(deep=False)  # the file's own frame stays as read
                part[name] = pd.Series(column.tolist(), index=part.index, dtype=object)
        out.append(part)
    return out


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


__all__ = [
    "META",
    "Scored",
    "load_capture",
    "load_scored",
    "read_capture_file",
    "window_seconds",
    "window_starts",
]
