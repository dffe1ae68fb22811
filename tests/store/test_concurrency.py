"""Concurrent writers against one store: the same rules hold on SQLite and on PostgreSQL.

Threads share one `SqlMetadataStore` (its connection pool), so on PostgreSQL their
transactions really overlap; on SQLite they queue for the write lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from loopline.ops import verify_audit
from loopline.store import Lineage, SqlMetadataStore
from tests._backends import metadata_url

THREADS = 8


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlMetadataStore]:
    opened = SqlMetadataStore(metadata_url(tmp_path))
    yield opened
    opened.close()


def _together(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run work(0..n-1) in n threads released at the same instant; re-raise the first error."""
    start = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def body(i: int) -> None:
        start.wait()
        try:
            results[i] = work(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    if errors:
        raise errors[0]
    return results


def _version(store: SqlMetadataStore, model: str, run_id: str, i: int) -> int:
    return store.create_version(
        model,
        run_id=run_id,
        artifact_path="model",
        sha256=f"{i:064x}",
        flavor="sklearn",
        signature=None,
        metrics={"auc": 0.5 + i / 100},
        git_commit=None,
        created_by=f"user{i}",
        card={},
    ).version


def test_runs_of_a_new_experiment_create_it_once(store: SqlMetadataStore) -> None:
    runs = _together(
        THREADS, lambda i: store.create_run("fresh", None, {"i": str(i)}, {}, Lineage())
    )
    assert len({r.experiment_id for r in runs}) == 1
    assert [(e.name, e.run_count) for e in store.list_experiments()] == [("fresh", THREADS)]


def test_versions_of_a_new_model_are_numbered_without_gaps_or_clashes(
    store: SqlMetadataStore,
) -> None:
    run = store.create_run("e", None, {}, {}, Lineage())
    numbers = _together(THREADS, lambda i: _version(store, "fresh-model", run.id, i))
    assert sorted(numbers) == list(range(1, THREADS + 1))
    assert store.get_model("fresh-model").latest_version == THREADS


def test_audit_chain_stays_linear_under_concurrent_writers_of_different_models(
    store: SqlMetadataStore,
) -> None:
    run = store.create_run("e", None, {}, {}, Lineage())
    for m in range(THREADS):
        for i in range(2):
            _version(store, f"m{m}", run.id, i)

    def churn(m: int) -> int:
        moves = 0
        for k in range(10):  # different models: nothing but the audit log is shared
            store.move_alias(f"m{m}", "champion", 1 + k % 2, actor=f"u{m}", action="promote")
            moves += 1
            store.record_evaluation(
                f"m{m}", 1, dataset_fingerprint="f" * 64, task="c", metrics={"k": k}, slices={}
            )
        return moves

    assert sum(_together(THREADS, churn)) == THREADS * 10
    events = store.list_audit_events()
    assert len(events) == THREADS * 2 + THREADS * 10 * 2
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]  # one chain
    assert verify_audit(store).ok
    for m in range(THREADS):
        assert store.get_version_by_alias(f"m{m}", "champion").version == 2


def test_concurrent_moves_of_one_alias_leave_one_holder_and_a_replayable_history(
    store: SqlMetadataStore,
) -> None:
    run = store.create_run("e", None, {}, {}, Lineage())
    for i in range(3):
        _version(store, "churn", run.id, i)

    def promote(i: int) -> None:
        for k in range(10):
            store.move_alias("churn", "champion", 1 + (i + k) % 3, actor=f"u{i}", action="promote")

    _together(THREADS, promote)
    history = store.alias_history("churn", "champion")
    assert len(history) == THREADS * 10
    held = None
    for move in history:  # each move starts where the previous one ended
        assert move.from_version == held
        held = move.to_version
    assert store.get_version_by_alias("churn", "champion").version == held
    events = [e for e in store.list_audit_events() if e.target_id == "churn@champion"]
    assert [(e.before or {}).get("version") for e in events] == [m.from_version for m in history]


def test_params_tags_and_datasets_of_one_run_from_many_threads(store: SqlMetadataStore) -> None:
    run = store.create_run("e", None, {}, {}, Lineage())
    record = {
        "fingerprint": "d" * 64, "name": "train", "n_rows": 1, "n_columns": 1,
        "schema": {}, "profile": {}, "source": None, "artifact_sha256": None,
    }  # fmt: skip

    def write(i: int) -> None:
        store.log_params(run.id, {"shared": "same", f"p{i}": str(i)})
        store.set_tags(run.id, {"owner": "team", f"t{i}": "x"})
        store.record_dataset_use(run.id, record, "train", "training")

    _together(THREADS, write)
    got = store.get_run(run.id)
    assert got.params == {"shared": "same", **{f"p{i}": str(i) for i in range(THREADS)}}
    assert got.tags == {"owner": "team", **{f"t{i}": "x" for i in range(THREADS)}}
    assert [u.name for u in store.run_datasets(run.id)] == ["train"]
    assert len(store.list_datasets()) == 1
