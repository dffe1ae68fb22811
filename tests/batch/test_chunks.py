"""Chunking and the local engine, without a model: sizes, order, errors, early stops."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from loopline.batch import ComputeEngine, LocalEngine, resolve_engine
from loopline.batch._readers import rechunk
from loopline.errors import InvalidInputError


def batches(sizes: list[int]) -> Iterator[pa.RecordBatch]:
    start = 0
    for size in sizes:
        yield pa.record_batch({"i": pa.array(range(start, start + size), pa.int64())})
        start += size


@given(
    sizes=st.lists(st.integers(min_value=0, max_value=40), max_size=12),
    size=st.integers(min_value=1, max_value=50),
)
def test_rechunk_gives_full_chunks_in_order_whatever_the_batches(
    sizes: list[int], size: int
) -> None:
    chunks = list(rechunk(batches(sizes), size))
    total = sum(sizes)
    assert [c.num_rows for c in chunks] == [size] * (total // size) + (
        [total % size] if total % size else []
    )
    rows = [v for c in chunks for v in c.column("i").to_pylist()]
    assert rows == list(range(total))


@pytest.mark.parametrize("prefetch", [0, 1, 4])
def test_local_engine_keeps_order(prefetch: int) -> None:
    engine = LocalEngine(prefetch)
    assert isinstance(engine, ComputeEngine)
    assert list(engine.map_chunks(lambda x: x * 2, iter(range(50)))) == list(range(0, 100, 2))


def test_a_read_error_reaches_the_caller() -> None:
    def chunks() -> Iterator[int]:
        yield 1
        raise InvalidInputError("cannot read in.csv: row 9")

    results = LocalEngine(2).map_chunks(lambda x: x, chunks())
    assert next(results) == 1
    with pytest.raises(InvalidInputError, match="row 9"):
        next(results)


def test_stopping_early_releases_the_reader_and_closes_the_input() -> None:
    closed = threading.Event()

    def chunks() -> Iterator[int]:
        try:
            yield from range(1_000_000)
        finally:
            closed.set()

    def explode(x: int) -> int:
        if x == 3:
            raise RuntimeError("scoring failed")
        return x

    threads = threading.active_count()
    with pytest.raises(RuntimeError, match="scoring failed"):
        list(LocalEngine(2).map_chunks(explode, chunks()))
    assert closed.is_set() and threading.active_count() == threads


def test_engines_by_name() -> None:
    assert isinstance(resolve_engine("local"), LocalEngine)
    custom = LocalEngine(0)
    assert resolve_engine(custom) is custom
    with pytest.raises(InvalidInputError, match="unknown compute engine 'spark'"):
        resolve_engine("spark")
    with pytest.raises(InvalidInputError, match="prefetch must be 0 or more"):
        LocalEngine(-1)
