"""Capture pages: the common request's scored rows, copied into columns as they come.

Most requests are a few rows of one numeric dtype (the fast path's frame is one float
block). Queuing each request's DataFrame for the writer kept thousands of young objects
alive per second: the cyclic collector ran ~15x more often and the writer's per-request
work competed with the event loop for the GIL; capture cost ~15% of throughput. A page
instead copies the request's block, labels and probabilities into preallocated arrays
(three numpy slice assignments, a few microseconds) and keeps only plain numbers and
strings per request, which the collector never visits. The writer turns a page into the
same Arrow table `typed_table` builds from the same requests, column by column, with no
Python work per request.

A page holds requests of one model, UTC day, column list, input dtype and output
layout; anything else (mixed dtypes, string labels, many-row requests whose frame costs
nothing to keep) takes the item queue as before.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

FORMAT_KEY = b"loopline.capture"
FORMAT = b"2"
INPUT_PREFIX = "inputs."  # format 2: input column `x` is stored as `inputs.x`

PAGE_ROWS = 2_048
# A page starts this small and doubles as it fills: memory follows the rows held, even when
# requests of many layouts keep opening pages.
FIRST_ROWS = 16
# Above this many rows a request's frame is worth keeping whole rather than copying on
# the request path (one frame per request is little for the collector to walk).
MAX_PAGED_ROWS = 64

_META_SCHEMA = pa.schema(
    [
        ("request_id", pa.string()),
        ("ts", pa.float64()),
        ("model", pa.string()),
        ("version", pa.int32()),
        ("arm", pa.string()),
        ("latency_ms", pa.float64()),
    ]
)


def single_block(frame: pd.DataFrame) -> np.ndarray[Any, Any] | None:
    """The frame's values as one (columns x rows) numpy array when pandas holds them so,
    else None. Reads the block manager (pandas internals, hence every getattr): a frame
    built from one matrix keeps it as one block, and stacking those blocks is the cheapest
    way to the column-major layout Arrow wants."""
    blocks = getattr(getattr(frame, "_mgr", None), "blocks", None)
    if not isinstance(blocks, tuple) or len(blocks) != 1:
        return None
    values = getattr(blocks[0], "values", None)
    if not isinstance(values, np.ndarray) or values.ndim != 2:
        return None
    if values.shape != (len(frame.columns), len(frame.index)):
        return None
    return values


def pageable(
    block: np.ndarray[Any, Any] | None,
    labels: np.ndarray[Any, Any],
    proba: np.ndarray[Any, Any] | None,
) -> bool:
    """Whether a request's rows can go to a page: one numeric input block of few rows,
    numeric labels, float probabilities or none."""
    return (
        block is not None
        and block.shape[1] <= MAX_PAGED_ROWS
        and block.dtype.kind in "fiub"
        and labels.dtype.kind in "fiub"
        and (proba is None or proba.dtype.kind == "f")
    )


class Page:
    """Preallocated columns for up to `PAGE_ROWS` rows of requests of one layout, filled
    on the request path (under the capture's lock) and read once by the writer."""

    def __init__(
        self,
        model: str,
        day: int,
        columns: pd.Index,
        block: np.ndarray[Any, Any],
        labels: np.ndarray[Any, Any],
        proba: np.ndarray[Any, Any] | None,
    ) -> None:
        self.model, self.day, self.columns = model, day, columns
        size = max(FIRST_ROWS, block.shape[1])
        self.inputs = np.empty((len(columns), size), dtype=block.dtype)
        self.labels = np.empty((size, *labels.shape[1:]), dtype=labels.dtype)
        self.proba = (
            None if proba is None else np.empty((size, *proba.shape[1:]), dtype=proba.dtype)
        )
        self.rows = 0
        # per request, plain values only: (request_id, ts, model, version, arm, latency_ms)
        self.meta: tuple[list[Any], ...] = ([], [], [], [], [], [])
        self.counts: list[int] = []

    def fits(
        self,
        model: str,
        day: int,
        columns: pd.Index,
        block: np.ndarray[Any, Any],
        labels: np.ndarray[Any, Any],
        proba: np.ndarray[Any, Any] | None,
    ) -> bool:
        """Whether the request shares this page's file: same model, day, columns (the
        fast path's frames share one Index object, so identity answers at once), dtypes
        and output shapes, with room for its rows."""
        if self.rows + block.shape[1] > PAGE_ROWS or model != self.model or day != self.day:
            return False
        if block.dtype != self.inputs.dtype or labels.dtype != self.labels.dtype:
            return False
        if labels.shape[1:] != self.labels.shape[1:]:
            return False
        if proba is None or self.proba is None:
            if proba is not self.proba:  # one has probabilities, the other not
                return False
        elif proba.dtype != self.proba.dtype or proba.shape[1:] != self.proba.shape[1:]:
            return False
        return columns is self.columns or bool(columns.equals(self.columns))

    def add(self, item: tuple[Any, ...], block: np.ndarray[Any, Any]) -> None:
        """Copy one request's rows in (`item` as `_capture.Item`)."""
        start = self.rows
        end = start + block.shape[1]
        if end > self.labels.shape[0]:
            self._grow(min(PAGE_ROWS, max(end, 2 * self.labels.shape[0])))
        self.inputs[:, start:end] = block
        self.labels[start:end] = item[7]
        if self.proba is not None:
            self.proba[start:end] = item[8]
        self.rows = end
        for column, value in zip(self.meta, item[:6], strict=False):
            column.append(value)
        self.counts.append(end - start)

    def _grow(self, size: int) -> None:
        rows = self.rows
        inputs = np.empty((self.inputs.shape[0], size), dtype=self.inputs.dtype)
        inputs[:, :rows] = self.inputs[:, :rows]
        self.inputs = inputs
        self.labels = _resized(self.labels, size, rows)
        if self.proba is not None:
            self.proba = _resized(self.proba, size, rows)


def _resized(array: np.ndarray[Any, Any], size: int, rows: int) -> np.ndarray[Any, Any]:
    out = np.empty((size, *array.shape[1:]), dtype=array.dtype)
    out[:rows] = array[:rows]
    return out


def values_array(array: np.ndarray[Any, Any]) -> pa.Array:
    """One Arrow value per row: a scalar column, or a fixed-size list for 2-D outputs."""
    if array.ndim == 1:
        return pa.array(array)
    width = int(np.prod(array.shape[1:]))
    return pa.FixedSizeListArray.from_arrays(pa.array(array.reshape(-1)), width)


def assemble(
    meta: tuple[list[Any], ...] | list[list[Any]],
    counts: np.ndarray[Any, Any],
    labels: np.ndarray[Any, Any],
    proba: np.ndarray[Any, Any] | None,
    inputs: pa.Table,
) -> pa.Table:
    """Format 2's table from per-request metadata (six lists, one value per request),
    rows per request, the concatenated outputs and the typed input columns."""
    per_request = pa.table(list(meta), schema=_META_SCHEMA)
    request_of_row = np.repeat(np.arange(len(counts)), counts)
    rows = per_request.take(pa.array(request_of_row))
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    row = (np.arange(len(request_of_row)) - starts).astype(np.int32)
    prediction = values_array(labels)
    if proba is None:
        probability = pa.nulls(len(labels), pa.float64())
        probas = pa.nulls(len(labels), pa.list_(pa.float64()))
    else:
        binary = proba.ndim == 2 and proba.shape[1] == 2
        probability = (
            pa.array(proba[:, 1].astype(np.float64))
            if binary
            else pa.nulls(len(labels), pa.float64())
        )
        probas = values_array(proba)
    columns = [rows.column(0), pa.array(row), *rows.columns[1:]]
    columns += [prediction, probability, probas, *inputs.columns]
    names = ["request_id", "row", *rows.column_names[1:], "prediction", "probability", "proba"]
    metadata = {**(inputs.schema.metadata or {}), FORMAT_KEY: FORMAT}
    return pa.Table.from_arrays(
        columns, names=[*names, *inputs.column_names]
    ).replace_schema_metadata(metadata)


def page_table(page: Page) -> pa.Table:
    """The page's rows as format 2: equal to `typed_table` of the same requests."""
    n = page.rows
    names = [f"{INPUT_PREFIX}{c}" for c in page.columns]
    inputs = pa.Table.from_arrays(
        [pa.array(column[:n], from_pandas=True) for column in page.inputs], names=names
    )
    proba = None if page.proba is None else page.proba[:n]
    counts = np.array(page.counts, dtype=np.int64)
    return assemble(page.meta, counts, page.labels[:n], proba, inputs)


__all__ = [
    "FORMAT",
    "FORMAT_KEY",
    "INPUT_PREFIX",
    "MAX_PAGED_ROWS",
    "PAGE_ROWS",
    "Page",
    "assemble",
    "page_table",
    "pageable",
    "single_block",
    "values_array",
]
