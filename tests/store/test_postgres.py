"""PostgreSQL specifics: connection errors, pool settings, locks, JSON. The server-backed tests
run when the suite runs on PostgreSQL (``make pytest-postgres``), and skip otherwise."""

from __future__ import annotations

import math
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from loopline.errors import StoreUnavailableError
from loopline.store import Lineage, SqlMetadataStore
from loopline.store.sql._engine import CONTROL_KEY, create_engine
from tests._backends import metadata_url, postgres_url

pytest.importorskip("psycopg")

on_postgres = pytest.mark.skipif(
    postgres_url() is None,
    reason="runs on PostgreSQL only (make pytest-postgres)",
)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends: nothing listens


def test_unreachable_server_is_one_clear_error() -> None:
    port = _closed_port()
    with pytest.raises(StoreUnavailableError) as info:
        SqlMetadataStore(f"postgresql+psycopg://loopline:secret@127.0.0.1:{port}/meta")
    line = info.value.one_line()
    assert f"127.0.0.1:{port}/meta" in line and "LOOPLINE_DB_URL" in line
    assert "secret" not in line and "secret" not in str(info.value.to_dict())


def test_pool_settings_come_from_the_url_query() -> None:
    engine = create_engine(
        "postgresql+psycopg://u@127.0.0.1:1/db?pool_size=3&max_overflow=2&pool_timeout=7"
    )
    pool = engine.pool
    assert isinstance(pool, sa.pool.QueuePool)
    assert (pool.size(), pool._max_overflow, pool._timeout) == (3, 2, 7)
    assert "pool_size" not in str(engine.url)  # not handed to the driver
    default = create_engine("postgresql+psycopg://u@127.0.0.1:1/db").pool
    assert isinstance(default, sa.pool.QueuePool) and default.size() == 5
    with pytest.raises(StoreUnavailableError, match=r"pool_size='many' is not a whole number"):
        create_engine("postgresql+psycopg://u@127.0.0.1:1/db?pool_size=many")


@pytest.fixture
def pg_store(tmp_path: Path) -> Iterator[SqlMetadataStore]:
    opened = SqlMetadataStore(metadata_url(tmp_path))
    yield opened
    opened.close()


@on_postgres
def test_a_promotion_waits_for_the_control_lock(pg_store: SqlMetadataStore) -> None:
    run = pg_store.create_run("e", None, {}, {}, Lineage())
    pg_store.create_version(
        "churn", run_id=run.id, artifact_path="m", sha256="a" * 64, flavor="sklearn",
        signature=None, metrics={}, git_commit=None, created_by="u", card={},
    )  # fmt: skip
    done = threading.Event()
    holder = pg_store._engine.connect()
    with holder.begin():  # another writer in the middle of a control-plane transaction
        holder.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": CONTROL_KEY})
        mover = threading.Thread(
            target=lambda: (
                pg_store.move_alias("churn", "champion", 1, actor="u", action="promote"),
                done.set(),
            )
        )
        mover.start()
        time.sleep(0.5)
        assert not done.is_set()  # blocked behind the other transaction
        # ...while tracking writes carry on: they never take the control lock
        pg_store.log_metrics(run.id, [("loss", 1.0, 0, time.time())])
    holder.close()
    mover.join(timeout=30)
    assert done.is_set()
    assert pg_store.get_version_by_alias("churn", "champion").version == 1


@on_postgres
def test_non_finite_floats_in_json_are_stored_as_null(pg_store: SqlMetadataStore) -> None:
    # PostgreSQL's json type refuses NaN and Infinity; the store writes null (as monitoring does).
    run = pg_store.create_run("e", None, {}, {}, Lineage())
    v = pg_store.create_version(
        "churn", run_id=run.id, artifact_path="m", sha256="a" * 64, flavor="sklearn",
        signature=None, metrics={"auc": math.nan, "loss": 0.5, "ratio": math.inf},
        git_commit=None, created_by="u", card={"notes": [math.nan, 1.0]},
    )  # fmt: skip
    got = pg_store.get_version("churn", v.version)
    assert got.metrics == {"auc": None, "loss": 0.5, "ratio": None}
    assert got.card == {"notes": [None, 1.0]}
