"""Listing costs do not grow with history (issue 18): runs carry their latest metric values
from `latest_metrics` (kept with the points, in one transaction), and listing runs or a
model's versions runs a fixed number of statements whatever the store holds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from loopline.errors import InvalidInputError
from loopline.store import MAX_RUNS_PAGE, Lineage, SqlMetadataStore
from tests._backends import metadata_url


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlMetadataStore]:
    opened = SqlMetadataStore(metadata_url(tmp_path))  # SQLite, or PostgreSQL on PG runs
    yield opened
    opened.close()


@contextmanager
def counted(store: SqlMetadataStore) -> Iterator[list[str]]:
    """Every SQL statement the store's engines run inside the block."""
    seen: list[str] = []

    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement)

    engines = {id(e): e for e in (store._engine, store._write_engine)}.values()
    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", note)


points = st.lists(
    st.tuples(
        st.sampled_from(["auc", "loss"]),
        st.floats(-1e6, 1e6, allow_nan=False),
        st.integers(0, 3),  # few steps and timestamps: many ties, the hard case
        st.sampled_from([1.0, 2.0]),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=40, deadline=None)
@given(batches=st.lists(points, min_size=1, max_size=4))
def test_latest_value_matches_the_point_history(
    tmp_path_factory: pytest.TempPathFactory, batches: list[list[tuple[str, float, int, float]]]
) -> None:
    store = SqlMetadataStore(metadata_url(tmp_path_factory.mktemp("latest")))
    try:
        run = store.create_run("e", None, {}, {}, Lineage())
        for batch in batches:
            store.log_metrics(run.id, batch)
        logged = [p for batch in batches for p in batch]
        expected: dict[str, float] = {}
        for key in {p[0] for p in logged}:
            # the last point by (step, timestamp), the one logged last on a tie
            mine = [(p[2], p[3], i, p[1]) for i, p in enumerate(logged) if p[0] == key]
            expected[key] = max(mine)[3]
        assert store.get_run(run.id).metrics == expected
        history = store.metric_history(run.id)
        assert len(history) == len(logged)  # the points are all still there
    finally:
        store.close()


def test_listing_runs_and_sorting_by_a_metric_read_latest_values(store: SqlMetadataStore) -> None:
    ids = []
    for i in range(5):
        run = store.create_run("e", None, {}, {}, Lineage())
        store.log_metrics(run.id, [("auc", 0.1 * i, s, float(s)) for s in range(50)])
        store.log_metrics(run.id, [("auc", 0.5 + 0.1 * i, 0, 99.0)])  # older step: not latest
        ids.append(run.id)
    best = store.list_runs("e", sort="metric.auc desc", limit=2)
    assert [r.id for r in best] == [ids[4], ids[3]]
    assert best[0].metrics == {"auc": pytest.approx(0.4)}


def run_statements(store: SqlMetadataStore, runs: int) -> int:
    for _ in range(runs):
        run = store.create_run("e", None, {"C": "1"}, {"team": "a"}, Lineage())
        store.log_metrics(run.id, [("auc", 0.5, s, float(s)) for s in range(20)])
    with counted(store) as seen:
        store.list_runs("e", limit=100)
        store.list_runs("e", sort="metric.auc desc", limit=100)
    return len(seen)


def test_listing_runs_costs_the_same_statements_at_any_size(store: SqlMetadataStore) -> None:
    small = run_statements(store, 3)
    large = run_statements(store, 30)
    assert small == large <= 16  # 7 or 8 per listing, whatever the size


def test_listing_versions_costs_the_same_statements_at_any_size(
    store: SqlMetadataStore,
) -> None:
    def versions(n: int) -> int:
        for _ in range(n):
            run = store.create_run("e", None, {}, {}, Lineage())
            store.create_version(
                "m",
                run_id=run.id,
                artifact_path="model",
                sha256="0" * 64,
                flavor="sklearn",
                signature=None,
                metrics={"auc": 0.5},
                git_commit=None,
                created_by="a",
                card={},
            )
        with counted(store) as seen:
            listed = store.list_versions("m")
        assert all(v.gate is None for v in listed)
        return len(seen)

    assert versions(2) == versions(20) <= 6


def test_the_running_runs_are_one_indexed_bounded_query(store: SqlMetadataStore) -> None:
    """`list_runs(status="running", limit=MAX_RUNS_PAGE)`, which replaced `list_running()`
    (every CLI command asks it first, to reap dead runs), reads the runs through the status
    index, never more than a page of them, whatever the history holds."""
    for i in range(6):
        run = store.create_run("e", None, {}, {}, Lineage())
        if i % 2:
            store.finish_run(run.id, "finished")
    plans: list[str] = []

    def explain(
        conn: sa.Connection, cursor: object, statement: str, params: Any, *_: object
    ) -> None:
        if statement.lstrip().startswith("SELECT runs.id") and conn.dialect.name == "sqlite":
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
            plans.extend(str(row[3]) for row in plan)

    with counted(store) as seen:
        sa.event.listen(store._engine, "before_cursor_execute", explain)
        try:
            running = store.list_runs(status="running", limit=MAX_RUNS_PAGE)
        finally:
            sa.event.remove(store._engine, "before_cursor_execute", explain)
    assert len(running) == 3 and {r.status for r in running} == {"running"}
    runs_query = [s for s in seen if s.lstrip().startswith("SELECT runs.id")]
    assert len(runs_query) == 1 and "LIMIT" in runs_query[0]
    if store.url.startswith("sqlite"):
        assert any("USING INDEX ix_runs_status" in step for step in plans), plans
    with pytest.raises(InvalidInputError, match="out of range"):
        store.list_runs(status="running", limit=MAX_RUNS_PAGE + 1)
