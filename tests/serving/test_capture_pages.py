"""Capture pages (serving/_capture_page.py) write exactly what the item queue writes.

The request path copies the common request (a few rows of one numeric dtype) into a page;
the writer turns a page into a table. These tests hold the page's table to `typed_table`
of the same requests, column by column and to the bit, for every dtype, output layout and
row count a page accepts, and check the cases a page must refuse.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from loopline.serving import PredictionCapture
from loopline.serving._capture import typed_table
from loopline.serving._capture_page import (
    MAX_PAGED_ROWS,
    PAGE_ROWS,
    Page,
    page_table,
    pageable,
    single_block,
)

NAMES = pd.Index(["a", "b", "c", "d"])
DTYPES = st.sampled_from(["float64", "float32", "int64", "int8", "uint16", "bool"])


def assert_same_array(got: pa.Array, want: pa.Array, name: str) -> None:
    """Equal values and nulls; floats by bit pattern (NaN equals NaN, -0.0 is not 0.0)."""
    assert got.type == want.type and got.is_null().equals(want.is_null()), name
    if pa.types.is_fixed_size_list(want.type):
        assert_same_array(got.flatten(), want.flatten(), name)
    elif pa.types.is_floating(want.type):
        g = got.fill_null(0).to_numpy(zero_copy_only=False)
        w = want.fill_null(0).to_numpy(zero_copy_only=False)
        assert np.array_equal(g.view(f"u{g.itemsize}"), w.view(f"u{w.itemsize}")), name
    else:
        assert got.equals(want), (name, got, want)


def assert_same_table(got: pa.Table, want: pa.Table) -> None:
    """Equal schemas (metadata included) and equal values, column by column."""
    assert got.schema.equals(want.schema, check_metadata=True), (got.schema, want.schema)
    for name in want.column_names:
        assert_same_array(
            got.column(name).combine_chunks(), want.column(name).combine_chunks(), name
        )


@st.composite
def paged_requests(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    """Requests of one layout: 1-10 of them, each of 1..MAX_PAGED_ROWS rows."""
    dtype = draw(DTYPES)
    width = draw(st.integers(1, len(NAMES)))
    columns = NAMES[:width]
    labels_kind = draw(st.sampled_from(["int64", "float64", "bool", "2d"]))
    proba_width = draw(st.sampled_from([None, 2, 3]))
    items = []
    for i in range(draw(st.integers(1, 10))):
        n = draw(st.sampled_from([1, 2, 5, MAX_PAGED_ROWS]))
        matrix = draw(arrays(dtype, (n, width)))
        frame = pd.DataFrame(matrix, columns=columns)
        if labels_kind == "2d":
            labels = draw(arrays("float64", (n, 2)))
        else:
            labels = draw(arrays(labels_kind, n))
        proba = None if proba_width is None else draw(arrays("float64", (n, proba_width)))
        items.append((f"r{i}", 1_700_000_000.0 + i, "m", 1 + i % 2, "main", 0.25 * i))
        items[-1] += (frame, labels, proba)
    return items


@settings(max_examples=80, deadline=None)
@given(items=paged_requests())
def test_a_page_writes_what_the_queue_writes(items: list[tuple[Any, ...]]) -> None:
    first = items[0]
    block = single_block(first[6])
    assert block is not None and pageable(block, first[7], first[8])
    page = Page("m", int(first[1] // 86400), first[6].columns, block, first[7], first[8])
    for item in items:
        block = single_block(item[6])
        assert block is not None
        assert page.fits("m", page.day, item[6].columns, block, item[7], item[8])
        page.add(item, block)
    assert_same_table(page_table(page), typed_table(items))


def test_a_page_refuses_another_layout() -> None:
    frame = pd.DataFrame(np.zeros((1, 2)), columns=NAMES[:2])
    block = single_block(frame)
    assert block is not None
    labels, proba = np.zeros(1, dtype="int64"), np.zeros((1, 2))
    page = Page("m", 5, frame.columns, block, labels, proba)
    assert page.fits("m", 5, pd.Index(["a", "b"]), block, labels, proba)  # equal, not same
    assert not page.fits("m", 5, pd.Index(["b", "a"]), block, labels, proba)
    assert not page.fits("other", 5, frame.columns, block, labels, proba)
    assert not page.fits("m", 6, frame.columns, block, labels, proba)  # next UTC day
    assert not page.fits("m", 5, frame.columns, block.astype("float32"), labels, proba)
    assert not page.fits("m", 5, frame.columns, block, labels.astype("float64"), proba)
    assert not page.fits("m", 5, frame.columns, block, labels, None)
    assert not page.fits("m", 5, frame.columns, block, labels, np.zeros((1, 3)))
    big = np.zeros((2, PAGE_ROWS))
    assert not page.fits("m", 5, frame.columns, big, np.zeros(PAGE_ROWS), np.zeros((PAGE_ROWS, 2)))


def test_only_few_row_numeric_requests_are_paged() -> None:
    labels = np.zeros(1, dtype="int64")
    mixed = pd.DataFrame({"a": [1.0], "b": [1]})  # two blocks: queued as a frame
    assert single_block(mixed) is None
    many = pd.DataFrame(np.zeros((MAX_PAGED_ROWS + 1, 2)))
    assert not pageable(single_block(many), np.zeros(MAX_PAGED_ROWS + 1), None)
    text = pd.DataFrame(np.array([["x", "y"]], dtype=object))
    assert not pageable(single_block(text), labels, None)
    assert not pageable(single_block(pd.DataFrame([[1.0]])), np.array(["yes"], dtype=object), None)


def test_paged_and_queued_requests_all_arrive_and_paged_values_are_copies(
    tmp_path: Path,
) -> None:
    """Through the writer thread: paged requests, a many-row request and a mixed-dtype
    one land in their files; a paged request's values were copied at offer time, so a
    later change to the served arrays does not reach the capture."""
    capture = PredictionCapture(tmp_path, batch_rows=10**6, flush_interval_s=60)  # close() writes
    now = time.time()
    served = pd.DataFrame(np.array([[1.0, 2.0]]), columns=NAMES[:2])
    labels = np.array([1], dtype="int64")
    proba = np.array([[0.25, 0.75]])
    for i in range(3 * PAGE_ROWS // 2):  # more than a page: one sealed, one open at close
        assert capture.offer((f"p{i}", now, "m", 1, "main", 1.0, served, labels, proba))
    many = pd.DataFrame(np.ones((MAX_PAGED_ROWS + 1, 2)), columns=NAMES[:2])
    many_labels, many_proba = np.zeros(len(many), dtype="int64"), np.zeros((len(many), 2))
    assert capture.offer(("big", now, "m", 1, "main", 1.0, many, many_labels, many_proba))
    mixed = pd.DataFrame({"a": [3.0], "b": np.array([4], dtype="int64")})
    assert capture.offer(("mixed", now, "m", 1, "main", 1.0, mixed, labels, proba))
    assert capture.depth == 3 * PAGE_ROWS // 2 + 2
    block = single_block(served)
    assert block is not None
    block[:] = -1.0  # the served frame's values change after the hand-off
    capture.close()
    files = sorted(tmp_path.glob("m/*/*.parquet"))
    tables = [pq.read_table(f) for f in files]
    rows = sum(t.num_rows for t in tables)
    assert rows == capture.written_rows == 3 * PAGE_ROWS // 2 + len(many) + 1
    everything = pd.concat([t.to_pandas() for t in tables], ignore_index=True)
    paged = everything[everything["request_id"].str.startswith("p")]
    assert len(paged) == 3 * PAGE_ROWS // 2
    assert (paged["inputs.a"] == 1.0).all() and (paged["inputs.b"] == 2.0).all()
    assert (paged["probability"] == 0.75).all() and (paged["prediction"] == 1).all()
    mixed_row = everything[everything["request_id"] == "mixed"].iloc[0]
    assert mixed_row["inputs.a"] == 3.0 and mixed_row["inputs.b"] == 4
    assert everything[everything["request_id"] == "big"]["row"].tolist() == list(range(len(many)))
