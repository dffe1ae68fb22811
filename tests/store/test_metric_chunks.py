"""Metric history stored as columnar chunks (issue 18): one row per key per written batch,
read back as the same points in the same order as the one-row-per-point table gave."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loopline.store import Lineage, MetricPoint, SqlMetadataStore
from loopline.store.sql import _schema as t
from loopline.tracking._points import Points
from tests._backends import metadata_url


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlMetadataStore]:
    opened = SqlMetadataStore(metadata_url(tmp_path))  # SQLite, or PostgreSQL on PG runs
    yield opened
    opened.close()


_keys = st.one_of(
    st.sampled_from(["loss", "auc", "a", "b"]),  # few keys: batches mix and repeat them
    st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        min_size=1,
        max_size=6,
    ),
)
_steps = st.one_of(st.integers(-3, 6), st.integers(-(2**63), 2**63 - 1))  # ties, and extremes
_stamps = st.one_of(st.sampled_from([0.0, 1.5, 2.0]), st.floats(-1e12, 1e12))
_values = st.floats(allow_nan=False, allow_infinity=False)
_point = st.tuples(_keys, _values, _steps, _stamps)


def _expected(batches: list[list[tuple[str, float, int, float]]]) -> list[MetricPoint]:
    """Every point, by key, step, timestamp, then logging order (what the row table gave)."""
    logged = [p for batch in batches for p in batch]
    order = sorted(range(len(logged)), key=lambda i: (logged[i][0], logged[i][2], logged[i][3], i))
    return [MetricPoint(*logged[i]) for i in order]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    batches=st.lists(st.lists(_point, min_size=1, max_size=30), min_size=1, max_size=5),
    columnar=st.booleans(),
)
def test_any_batches_round_trip_in_history_order(
    store: SqlMetadataStore, batches: list[list[tuple[str, float, int, float]]], columnar: bool
) -> None:
    """As tuples (a remote client's batches) or as the tracking buffer's columns."""
    run = store.create_run("chunks", None, {}, {}, Lineage())
    for batch in batches:
        store.log_metrics(run.id, _columns(batch) if columnar else batch)
    want = _expected(batches)
    assert store.metric_history(run.id) == want
    for key in {p.key for p in want}:
        assert store.metric_history(run.id, key) == [p for p in want if p.key == key]
    # the latest value per key is the history's last point of that key
    assert store.get_run(run.id).metrics == {p.key: p.value for p in want}


def _columns(batch: list[tuple[str, float, int, float]]) -> Points:
    points = Points()
    for key, value, step, stamp in batch:
        steps, values, stamps = points.appenders(key)
        steps(step)
        values(value)
        stamps(stamp)
    return points


def test_a_batch_is_one_row_per_key_of_raw_little_endian_arrays(
    store: SqlMetadataStore,
) -> None:
    run = store.create_run("chunks", None, {}, {}, Lineage())
    store.log_metrics(
        run.id, [("loss", 0.5, 0, 10.0), ("auc", 0.7, 0, 10.0), ("loss", 0.25, 1, 11.0)]
    )
    store.log_metrics(run.id, [("loss", 0.125, 2, 12.0)])
    c = t.metric_chunks.c
    with store._engine.connect() as conn:
        rows = conn.execute(sa.select(t.metric_chunks).order_by(c.id)).all()
    assert [(r.key, r.n, r.min_step, r.max_step) for r in rows if r.key == "loss"] == [
        ("loss", 2, 0, 1),
        ("loss", 1, 2, 2),
    ]
    first = next(r for r in rows if r.key == "loss")
    assert np.frombuffer(first.steps, "<i8").tolist() == [0, 1]
    assert np.frombuffer(first.vals, "<f8").tolist() == [0.5, 0.25]
    assert np.frombuffer(first.stamps, "<f8").tolist() == [10.0, 11.0]
    assert len(rows) == 3


def test_a_step_beyond_int64_is_refused_and_nothing_is_stored(store: SqlMetadataStore) -> None:
    run = store.create_run("chunks", None, {}, {}, Lineage())
    with pytest.raises(OverflowError):
        store.log_metrics(run.id, [("loss", 1.0, 0, 1.0), ("loss", 1.0, 2**63, 2.0)])
    assert store.metric_history(run.id) == []
    assert store.get_run(run.id).metrics == {}
