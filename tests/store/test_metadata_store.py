from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from loopline.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    SchemaVersionError,
    StoreUnavailableError,
)
from loopline.store import Lineage, SqlMetadataStore
from tests._backends import metadata_url


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlMetadataStore]:
    opened = SqlMetadataStore(metadata_url(tmp_path))  # SQLite, or PostgreSQL on PG runs
    yield opened
    opened.close()


def test_run_round_trip(store: SqlMetadataStore) -> None:
    lin = Lineage(git_commit="abc", git_dirty=True, host="h", pid=1, seed=7, environment={"x": 1})
    run = store.create_run("churn", None, {"C": "0.5"}, {"team": "risk"}, lin)
    store.log_metrics(run.id, [("auc", 0.5, 0, 1.0), ("auc", 0.9, 1, 2.0), ("loss", 3.0, 0, 1.0)])
    got = store.get_run(run.id[:6])
    assert got.id == run.id and got.status == "running" and got.experiment == "churn"
    assert got.params == {"C": "0.5"} and got.tags == {"team": "risk"}
    assert got.metrics == {"auc": 0.9, "loss": 3.0}
    assert got.lineage == lin
    assert [p.value for p in store.metric_history(run.id, "auc")] == [0.5, 0.9]
    store.finish_run(run.id, "finished")
    done = store.get_run(run.id)
    assert done.status == "finished" and done.ended_at is not None


def test_latest_metric_is_by_step_not_insertion(store: SqlMetadataStore) -> None:
    run = store.create_run("e", None, {}, {}, Lineage())
    store.log_metrics(run.id, [("m", 2.0, 5, 1.0), ("m", 1.0, 2, 2.0)])
    assert store.get_run(run.id).metrics == {"m": 2.0}


def test_param_cannot_change_within_a_run(store: SqlMetadataStore) -> None:
    run = store.create_run("e", None, {"C": "1"}, {}, Lineage())
    store.log_params(run.id, {"C": "1", "depth": "3"})  # same value again is fine
    with pytest.raises(ConflictError, match=r"param 'C' .* already '1'"):
        store.log_params(run.id, {"depth": "3", "C": "2"})
    assert store.get_run(run.id).params == {"C": "1", "depth": "3"}


def test_unknown_ids_are_not_found(store: SqlMetadataStore) -> None:
    with pytest.raises(NotFoundError, match="runs list"):
        store.get_run("deadbeef")
    with pytest.raises(NotFoundError, match="experiments list"):
        store.get_experiment("nope")
    with pytest.raises(NotFoundError):
        store.list_runs(experiment="nope")


def test_ambiguous_prefix_is_refused(store: SqlMetadataStore) -> None:
    ids = {store.create_run("e", None, {}, {}, Lineage()).id for _ in range(40)}
    prefixes: dict[str, int] = {}
    for i in ids:
        prefixes[i[:1]] = prefixes.get(i[:1], 0) + 1
    # a 4-char prefix is unique with overwhelming probability; a shared 1-char one is too short
    some = next(iter(ids))
    assert store.get_run(some[:4]).id == some
    with pytest.raises(NotFoundError):
        store.get_run(some[:3])


def test_sorting_by_metric_and_param(store: SqlMetadataStore) -> None:
    for c, auc in [("1", 0.7), ("2", 0.9), ("3", 0.8)]:
        r = store.create_run("e", None, {"C": c}, {}, Lineage())
        store.log_metrics(r.id, [("auc", auc, 0, time.time())])
    assert [r.metrics["auc"] for r in store.list_runs(sort="metric.auc desc")] == [
        0.9,
        0.8,
        0.7,
    ]
    assert [r.params["C"] for r in store.list_runs(sort="param.C asc")] == ["1", "2", "3"]
    with pytest.raises(InvalidInputError, match="cannot sort"):
        store.list_runs(sort="bogus")
    with pytest.raises(InvalidInputError, match="asc or desc"):
        store.list_runs(sort="metric.auc sideways")


def test_list_filters_and_experiment_counts(store: SqlMetadataStore) -> None:
    a = store.create_run("a", None, {}, {}, Lineage())
    store.create_run("b", None, {}, {}, Lineage())
    store.finish_run(a.id, "failed", "boom")
    assert [r.id for r in store.list_runs(status="failed")] == [a.id]
    assert store.list_runs(status="failed")[0].error == "boom"
    assert {(e.name, e.run_count) for e in store.list_experiments()} == {("a", 1), ("b", 1)}
    with pytest.raises(InvalidInputError, match="unknown run status"):
        store.list_runs(status="weird")


def test_artifact_paths_are_immutable(store: SqlMetadataStore) -> None:
    run = store.create_run("e", None, {}, {}, Lineage())
    store.record_artifact(run.id, "model", "model", "a" * 64, 10, {"flavor": "sklearn"})
    with pytest.raises(ConflictError, match="already has an artifact"):
        store.record_artifact(run.id, "model", "file", "b" * 64, 1)
    assert store.get_artifact(run.id, "model").meta == {"flavor": "sklearn"}
    with pytest.raises(NotFoundError):
        store.get_artifact(run.id, "other")


def test_dataset_is_registered_once_by_fingerprint(store: SqlMetadataStore) -> None:
    record = {
        "fingerprint": "f" * 64,
        "name": "train",
        "n_rows": 3,
        "n_columns": 1,
        "schema": {"x": "int64"},
        "profile": {},
        "source": None,
        "artifact_sha256": None,
    }
    r1 = store.create_run("e", None, {}, {}, Lineage())
    r2 = store.create_run("e", None, {}, {}, Lineage())
    d1 = store.record_dataset_use(r1.id, record, "train", "training")
    d2 = store.record_dataset_use(r2.id, record, "holdout", "evaluation")
    assert d1.id == d2.id
    assert [(u.name, u.role) for u in store.run_datasets(r2.id)] == [("holdout", "evaluation")]
    edges = store.lineage_edges("dataset", "f" * 64)
    assert {(e.dst_id, e.relation) for e in edges} == {(r1.id, "training"), (r2.id, "evaluation")}


def test_store_written_by_newer_schema_is_refused(tmp_path: Path) -> None:
    url = metadata_url(tmp_path)
    SqlMetadataStore(url).close()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    engine.dispose()
    with pytest.raises(SchemaVersionError, match="newer Loopline"):
        SqlMetadataStore(url)


def test_unwritable_home_is_refused() -> None:
    # /proc refuses writes even to root, so this runs the same in CI (as root) and locally.
    with pytest.raises(StoreUnavailableError, match="LOOPLINE_HOME"):
        SqlMetadataStore("sqlite:////proc/loopline-home/meta.db")


def test_home_under_a_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreUnavailableError, match="cannot create the Loopline home"):
        SqlMetadataStore(f"sqlite:///{blocker / 'sub' / 'meta.db'}")


def test_bad_url_is_refused() -> None:
    with pytest.raises(StoreUnavailableError, match="not a database URL"):
        SqlMetadataStore("not a url")


def test_dataset_versions_by_name_and_prefix(store: SqlMetadataStore) -> None:
    run = store.create_run("e", None, {}, {}, Lineage())
    for i, fp in enumerate(("aaaaaa11", "aaaaaa22", "bbbbbb33")):
        record = {
            "fingerprint": fp, "name": "train" if i < 2 else "test", "n_rows": i, "n_columns": 1,
            "schema": {}, "profile": {}, "source": None, "artifact_sha256": None,
        }  # fmt: skip
        store.record_dataset_use(run.id, record, f"d{i}", "training")
    assert [d.fingerprint for d in store.list_datasets("train")] == ["aaaaaa22", "aaaaaa11"]
    assert len(store.list_datasets()) == 3
    assert store.get_dataset("bbbbbb").name == "test"
    with pytest.raises(InvalidInputError, match="more than one"):
        store.get_dataset("aaaaaa")
    with pytest.raises(NotFoundError, match="data versions"):
        store.get_dataset("cccccc")
