"""Prediction capture: every scored row, written to Parquet by a background thread.

The request path only puts a tuple on a bounded queue (`put_nowait`); when the queue is
full the record is dropped and counted, never waited for, so capture cannot slow or
block serving. Files are named by process id and sequence, so several workers (or
replicas on a shared folder) never write to the same file.

Layout: `<folder>/<model>/<YYYY-MM-DD>/<unix_ms>-<pid>-<seq>.parquet`, one row per
prediction: request_id, row, ts, model, version, arm, latency_ms, inputs (JSON object),
prediction (JSON), probability (positive class, binary classifiers), proba (JSON list).
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

_SCHEMA = pa.schema(
    [
        ("request_id", pa.string()),
        ("row", pa.int32()),
        ("ts", pa.float64()),
        ("model", pa.string()),
        ("version", pa.int32()),
        ("arm", pa.string()),
        ("latency_ms", pa.float64()),
        ("inputs", pa.string()),
        ("prediction", pa.string()),
        ("probability", pa.float64()),
        ("proba", pa.string()),
    ]
)

# One queued item per request: (request_id, ts, model, version, arm, latency_ms,
# the scored rows as a DataFrame, predictions list, probabilities list-of-lists or None).
# The frame is never mutated after scoring, so the writer thread may read it later.
Item = tuple[str, float, str, int, str, float, pd.DataFrame, list[Any], Any]


class PredictionCapture:
    """Bounded, non-blocking capture with a background Parquet writer."""

    def __init__(
        self,
        folder: Path,
        max_queue: int = 10_000,
        batch_rows: int = 1_000,
        flush_interval_s: float = 1.0,
    ) -> None:
        self.folder = folder
        self._queue: queue.Queue[Item] = queue.Queue(maxsize=max_queue)
        self._batch_rows = batch_rows
        self._interval = flush_interval_s
        self.dropped = 0
        self.written_rows = 0
        self.write_errors = 0
        self._seq = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="loopline-capture", daemon=True)
        self._thread.start()

    @property
    def depth(self) -> int:
        return self._queue.qsize()

    def offer(self, item: Item) -> bool:
        """Queue one request's predictions; False (and counted) if the queue is full."""
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.dropped += 1
            return False
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            self._drain(block_s=self._interval)
        self._drain(block_s=0.0)

    def _drain(self, block_s: float) -> None:
        items: list[Item] = []
        deadline = time.monotonic() + block_s
        rows = 0
        while rows < self._batch_rows:
            timeout = deadline - time.monotonic()
            try:
                item = self._queue.get(timeout=timeout) if timeout > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            items.append(item)
            rows += len(item[6].index)
        if items:
            try:
                self._write(items)
            except OSError:
                self.write_errors += 1  # visible in /metrics; serving goes on

    def _write(self, items: list[Item]) -> None:
        cols: dict[str, list[Any]] = {name: [] for name in _SCHEMA.names}
        for rid, ts, model, version, arm, latency, frame, preds, proba in items:
            # json.dumps writes each float's shortest round-trip repr, so the captured value is
            # the served value to the bit. (pandas' to_json stops at 15 significant digits,
            # which moved values off the training values they equal and across drift bins.)
            if frame.isna().to_numpy().any():  # missing values as null (valid JSON), not NaN
                frame = frame.astype(object).where(frame.notna(), None)
            lines = [json.dumps(r, default=_jsonable) for r in frame.to_dict(orient="records")]
            for i, row_json in enumerate(lines):
                p = proba[i] if proba is not None else None
                cols["request_id"].append(rid)
                cols["row"].append(i)
                cols["ts"].append(ts)
                cols["model"].append(model)
                cols["version"].append(version)
                cols["arm"].append(arm)
                cols["latency_ms"].append(latency)
                cols["inputs"].append(row_json)
                cols["prediction"].append(json.dumps(preds[i], default=_jsonable))
                cols["probability"].append(float(p[-1]) if p is not None and len(p) == 2 else None)
                cols["proba"].append(json.dumps(p) if p is not None else None)
        model = items[0][2]
        day = time.strftime("%Y-%m-%d", time.gmtime(items[0][1]))
        target = self.folder / model / day
        target.mkdir(parents=True, exist_ok=True)
        self._seq += 1
        name = f"{int(time.time() * 1000)}-{os.getpid()}-{self._seq}.parquet"
        tmp = target / f".{name}.tmp"
        pq.write_table(pa.table(cols, schema=_SCHEMA), tmp)
        os.replace(tmp, target / name)  # readers never see half a file
        self.written_rows += len(cols["row"])

    def close(self, timeout_s: float = 10.0) -> None:
        """Write what is queued and stop."""
        self._stop.set()
        self._thread.join(timeout_s)


def _jsonable(value: Any) -> Any:
    item = getattr(value, "item", None)  # numpy scalars
    return item() if callable(item) else str(value)


def read_capture(folder: Path, model: str) -> Any:
    """All captured rows of `model` as a pandas DataFrame (empty if none yet)."""
    files = sorted((folder / model).glob("*/*.parquet"))
    if not files:
        return pd.DataFrame(columns=_SCHEMA.names)
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


__all__ = ["Item", "PredictionCapture", "read_capture"]
