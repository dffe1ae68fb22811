"""Prediction capture: every scored row, written to Parquet by a background thread.

The request path does O(1) work: the common request (a few rows of one numeric dtype) is
copied into a page of preallocated columns (serving/_capture_page.py: keeping each
request's DataFrame alive until the writer ran cost ~15% of throughput in garbage
collection and GIL contention); any other request queues a tuple of references (the
decoded frame, the labels and probability arrays the model returned). When `max_queue`
requests are waiting the request is dropped and counted, never waited for, so capture
cannot block serving. Files are named by process id and sequence, so several workers (or
replicas on a shared folder) never write to the same file.

The writer builds one Arrow table per page, and one per schema from queued requests:
`pd.concat` of the frames, `pa.Table.from_pandas`, `np.concatenate` of the outputs, `take`
for the per-request fields. No Python work per row (per-row JSON held the GIL long enough
to add 100 ms to the event loop's p99); the Parquet encoding itself runs in Arrow without
the GIL.

Layout: `<folder>/<model>/<YYYY-MM-DD>/<unix_ms>-<pid>-<seq>.parquet`, one row per
prediction: request_id, row, ts, model, version, arm, latency_ms, prediction (typed as the
model returned it), probability (positive class, binary classifiers), proba (list per row),
and one typed column `inputs.<name>` per input column, with pandas' schema metadata so
every dtype reads back as served. Format 2 is marked by `loopline.capture: 2` in the schema
metadata; format 1 files (before it) hold `inputs`, `prediction` and `proba` as JSON text,
and requests whose values Arrow cannot type (mixed-type object columns) are still written
that way. Requests of different column sets or dtypes (a hot swap) go to separate files.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from loopline.serving._capture_page import (
    FORMAT,
    FORMAT_KEY,
    INPUT_PREFIX,
    Page,
    assemble,
    page_table,
    pageable,
    single_block,
)

_JSON_SCHEMA = pa.schema(  # format 1: what files written before format 2 hold
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
# Arrow's refusals of a value it cannot type; such a group is written as JSON (format 1).
_UNTYPABLE = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, ValueError)

# The writer yields the GIL every _SLICE requests it sorts: a waiting event loop thread
# then gets it within a fraction of a millisecond instead of the 5 ms switch interval.
_SLICE = 64

# One queued item per request: (request_id, ts, model, version, arm, latency_ms, the scored
# rows as a DataFrame, the labels array, the probabilities array or None), all references
# to what the request already holds. Nothing mutates them after scoring, so the writer
# thread may read them later.
Item = tuple[str, float, str, int, str, float, pd.DataFrame, Any, Any]


# Pages open at once: requests of a few layouts (A/B arms of different signatures) each
# fill their own instead of sealing one another's after every request.
_OPEN_PAGES = 4


class PredictionCapture:
    """Bounded, non-blocking capture with a background Parquet writer.

    `batch_rows` waiting requests wake the writer early; otherwise it writes what is
    waiting every `flush_interval_s`. `dropped`, `written_rows`, `write_errors` and `depth`
    are read by /metrics; `write_seconds` is the writer thread's CPU time, for benchmarks."""

    def __init__(
        self,
        folder: Path,
        max_queue: int = 10_000,
        batch_rows: int = 2_000,
        flush_interval_s: float = 1.0,
    ) -> None:
        self.folder = folder
        # One lock for the request path (the event loop, the shadow thread) and the writer,
        # held for a few microseconds at a time: a page copy, or taking everything waiting.
        self._lock = threading.Lock()
        self._queue: deque[Item] = deque()
        self._open: list[Page] = []  # filling, most recently used first
        self._sealed: list[Page] = []  # full, or pushed out by other layouts
        self._pending = 0  # requests waiting, paged or queued
        self._max = max_queue
        self._batch = batch_rows
        self._interval = flush_interval_s
        self.dropped = 0
        self.written_rows = 0
        self.write_errors = 0
        self.write_seconds = 0.0
        self._seq = 0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="loopline-capture", daemon=True)
        self._thread.start()

    @property
    def depth(self) -> int:
        return self._pending

    def offer(self, item: Item) -> bool:
        """Take one request's predictions; False (and counted) if `max_queue` are waiting."""
        with self._lock:
            if self._pending >= self._max:
                self.dropped += 1
                return False
            if not self._page(item):
                self._queue.append(item)
            self._pending += 1
            if self._pending == self._batch:
                self._wake.set()  # only at the threshold: one event per batch, not per request
        return True

    def _page(self, item: Item) -> bool:
        """Copy `item` into an open page of its layout (opening one if needed); False
        when it is not a paged kind of request."""
        frame, labels, proba = item[6], item[7], item[8]
        block = single_block(frame)
        if block is None or not pageable(block, labels, proba):
            return False
        model, day, columns = item[2], int(item[1] // 86400), frame.columns
        pages = self._open
        for i, page in enumerate(pages):
            if page.fits(model, day, columns, block, labels, proba):
                if i:  # keep the busiest layout first: one comparison per request
                    pages.insert(0, pages.pop(i))
                page.add(item, block)
                return True
        if not columns.is_unique:
            return False
        if len(pages) >= _OPEN_PAGES:  # the least recently used (or a full one) is done
            self._sealed.append(pages.pop())
        page = Page(model, day, columns, block, labels, proba)
        pages.insert(0, page)
        page.add(item, block)
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            self._drain()
        self._drain()

    def _drain(self) -> None:
        with self._lock:  # everything waiting, in O(1) under the lock
            items, self._queue = list(self._queue), deque()
            pages = [*self._sealed, *(p for p in self._open if p.rows)]
            self._sealed, self._open = [], []
            self._pending = 0
        if not items and not pages:
            return
        t0 = time.thread_time()
        for page in pages:
            time.sleep(0)
            self._guarded(page_table, page, page.model, page.meta[1][0])
        for group in _groups(items).values():
            time.sleep(0)
            self._guarded(_table_of, group, group[0][2], group[0][1])
        self.write_seconds += time.thread_time() - t0

    def _guarded(self, build: Any, what: Any, model: str, ts: float) -> None:
        try:
            self._write(build(what), model, ts)
        except OSError:
            self.write_errors += 1  # visible in /metrics; serving goes on

    def _write(self, table: pa.Table, model: str, ts: float) -> None:
        day = time.strftime("%Y-%m-%d", time.gmtime(ts))
        target = self.folder / model / day
        target.mkdir(parents=True, exist_ok=True)
        self._seq += 1
        name = f"{int(time.time() * 1000)}-{os.getpid()}-{self._seq}.parquet"
        tmp = target / f".{name}.tmp"
        pq.write_table(table, tmp)
        os.replace(tmp, target / name)  # readers never see half a file
        self.written_rows += table.num_rows

    def close(self, timeout_s: float = 10.0) -> None:
        """Write what is waiting and stop."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout_s)


def _table_of(items: list[Item]) -> pa.Table:
    """Format 2 for a group of queued requests, or format 1 where Arrow cannot type a value."""
    try:
        return typed_table(items)
    except _UNTYPABLE:
        return json_table(items)


def _groups(items: list[Item]) -> dict[tuple[Any, ...], list[Item]]:
    """Items by what must share a file: model, UTC day, input columns and dtypes, output
    shape. A hot swap to a version with other columns starts a new file, never a union
    of columns (whose filling would turn ints into floats)."""
    groups: dict[tuple[Any, ...], list[Item]] = {}
    columns_seen: list[pd.Index] = []
    for n, item in enumerate(items, 1):
        if n % _SLICE == 0:
            time.sleep(0)  # let the event loop take the GIL now, not after a 5 ms switch
        frame, labels, proba = item[6], item[7], item[8]
        key = (
            item[2],
            int(item[1] // 86400),
            _columns_id(frame.columns, columns_seen),
            _dtypes(frame),
            labels.dtype.kind if labels.dtype.kind in "OUS" else labels.dtype,
            labels.shape[1:],
            None if proba is None else (proba.dtype, proba.shape[1:]),
        )
        groups.setdefault(key, []).append(item)
    return groups


def _columns_id(columns: pd.Index, seen: list[pd.Index]) -> int:
    """A small number per distinct column list: the same few lists come again and again,
    and comparing with them is cheaper than hashing the names (a `str` Index iterates
    slowly)."""
    names = columns.array
    for i, known in enumerate(seen):
        # ExtensionArray.equals: names and their dtype, a fraction of Index.equals' cost
        if columns is known or names.equals(known.array):
            return i
    seen.append(columns)
    return len(seen) - 1


def _dtypes(frame: pd.DataFrame) -> tuple[Any, ...]:
    """The frame's column dtypes, categories left out (they may differ per request; the
    column is re-categorised after concat). `DataFrame.dtypes` builds a Series, tens of
    microseconds per request; the block manager answers the same in well under one, and a
    frame held in one numpy block (what the fast path builds) in a tenth of that."""
    mgr = getattr(frame, "_mgr", None)
    block = single_block(frame)
    if block is not None:
        return (block.dtype, block.shape[0])  # every column of this one dtype
    get = getattr(mgr, "get_dtypes", None)
    found = tuple(get() if callable(get) else frame.dtypes.to_numpy())
    if len(set(found)) == 1 and isinstance(found[0], np.dtype):
        return (found[0], len(found))  # the same key as the one-block frame of these dtypes
    if pd.CategoricalDtype in map(type, found):
        found = tuple("category" if isinstance(d, pd.CategoricalDtype) else d for d in found)
    return found


def _inputs(frames: list[pd.DataFrame]) -> pa.Table:
    """The frames' rows one under the other as Arrow columns named `inputs.<name>`."""
    first = frames[0]
    names = [f"{INPUT_PREFIX}{c}" for c in first.columns]
    dtypes = set(first.dtypes)
    (dtype,) = dtypes if len(dtypes) == 1 else (None,)
    if isinstance(dtype, np.dtype) and dtype.kind in "fiub" and first.columns.is_unique:
        # One numpy dtype (the common all-numeric request): stack the frames' values, one
        # view each, and hand Arrow whole columns. pd.concat would compare every frame's
        # columns again and costs several times more per request.
        found = [single_block(f) for f in frames]
        blocks = [b for b in found if b is not None]
        if len(blocks) == len(frames):  # already column-major: join along rows
            columns = np.concatenate(blocks, axis=1) if len(blocks) > 1 else blocks[0]
        else:
            matrix = np.concatenate([f.to_numpy() for f in frames])
            columns = np.ascontiguousarray(matrix.T)
        return pa.Table.from_arrays([pa.array(c, from_pandas=True) for c in columns], names=names)
    inputs = pd.concat(frames, ignore_index=True) if len(frames) > 1 else first
    # A new frame (set_axis copies nothing under copy-on-write): the served one stays as is.
    inputs = inputs.set_axis(names, axis=1)
    for i, dtype in enumerate(first.dtypes):
        if isinstance(dtype, pd.CategoricalDtype) and inputs.dtypes.iloc[i] != dtype:
            # requests with other categories concatenate to object: categorise again
            inputs.isetitem(i, inputs.iloc[:, i].astype("category").array)
    return pa.Table.from_pandas(inputs, preserve_index=False)


def typed_table(items: list[Item]) -> pa.Table:
    """Format 2: one Arrow table for queued requests of one group, built column-wise."""
    frames = [item[6] for item in items]
    counts = np.fromiter((len(f.index) for f in frames), dtype=np.int64, count=len(frames))
    meta = [[item[k] for item in items] for k in range(6)]  # one value per request, not row
    labels = np.concatenate([item[7] for item in items])
    proba = None if items[0][8] is None else np.concatenate([item[8] for item in items])
    return assemble(meta, counts, labels, proba, _inputs(frames))


def json_table(items: list[Item]) -> pa.Table:
    """Format 1, per row, for values Arrow cannot type (mixed-type object columns)."""
    cols: dict[str, list[Any]] = {name: [] for name in _JSON_SCHEMA.names}
    for rid, ts, model, version, arm, latency, frame, labels, proba in items:
        # json.dumps writes each float's shortest round-trip repr: the served value to the bit.
        if frame.isna().to_numpy().any():  # missing values as null (valid JSON), not NaN
            frame = frame.astype(object).where(frame.notna(), None)
        lines = [json.dumps(r, default=_jsonable) for r in frame.to_dict(orient="records")]
        preds = labels.tolist()
        probs = proba.tolist() if proba is not None else None
        for i, row_json in enumerate(lines):
            p = probs[i] if probs is not None else None
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
    return pa.table(cols, schema=_JSON_SCHEMA)


def _jsonable(value: Any) -> Any:
    item = getattr(value, "item", None)  # numpy scalars
    return item() if callable(item) else str(value)


def read_capture(folder: Path, model: str) -> Any:
    """All captured rows of `model` as a pandas DataFrame, columns as stored (empty if none
    yet): format 2 files have one `inputs.<name>` column per input, format 1 files a JSON
    `inputs` column. Monitoring reads both through `loopline.monitoring.load_capture`."""
    files = sorted((folder / model).glob("*/*.parquet"))
    if not files:
        return pd.DataFrame(columns=_JSON_SCHEMA.names)
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


__all__ = ["FORMAT", "FORMAT_KEY", "INPUT_PREFIX", "Item", "PredictionCapture", "read_capture"]
