"""The Alembic migrations build exactly the schema the code declares."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from loopline.store.sql._engine import create_engine
from loopline.store.sql._migrate import HEAD, current_revision, ensure_schema, known_revisions
from loopline.store.sql._schema import metadata
from tests._backends import metadata_url


def _migrate_to_head(engine: sa.Engine) -> None:
    """Replay every migration script on the empty database (not `ensure_schema`'s shortcut)."""
    from alembic import command

    from loopline.store.sql._migrate import _alembic_config

    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "head")


def _plain(options: Any) -> list[tuple[str, str]]:
    """Dialect options as text: a partial index's predicate is a TextClause object."""
    return sorted((k, str(v)) for k, v in (options or {}).items())


def _structure(engine: sa.Engine) -> dict[str, Any]:
    """Everything the database says about its tables, in a comparable form (column order aside:
    a migration's ADD COLUMN appends where the declaration may not)."""
    with engine.connect() as conn:
        insp = sa.inspect(conn)
        tables: dict[str, Any] = {}
        for t in sorted(insp.get_table_names()):
            tables[t] = {
                "columns": sorted(
                    (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                    for c in insp.get_columns(t)
                ),
                "pk": insp.get_pk_constraint(t),
                "fks": sorted(
                    repr(
                        (
                            f["constrained_columns"],
                            f["referred_table"],
                            f["referred_columns"],
                            _plain(f.get("options")),
                        )
                    )
                    for f in insp.get_foreign_keys(t)
                ),
                "indexes": sorted(
                    repr(
                        (
                            i["name"],
                            i["column_names"],
                            i["unique"],
                            _plain(i.get("dialect_options")),
                        )
                    )
                    for i in insp.get_indexes(t)
                ),
                "uniques": sorted(repr(u) for u in insp.get_unique_constraints(t)),
                "checks": sorted(
                    (c["name"], " ".join(str(c["sqltext"]).split()))
                    for c in insp.get_check_constraints(t)
                ),
            }
        if engine.dialect.name == "sqlite":  # partial indexes' WHERE, which the inspector omits
            rows = conn.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type='index'"))
            tables["(sqlite indexes)"] = sorted(
                (name, " ".join(sql.replace('"', "").split())) for name, sql in rows if sql
            )
        tables["(revision)"] = current_revision_of(conn)
    return tables


def current_revision_of(conn: sa.Connection) -> str | None:
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def test_migrations_match_the_declared_schema(tmp_path: Path) -> None:
    engine = create_engine(metadata_url(tmp_path))  # SQLite, or PostgreSQL on PG runs
    _migrate_to_head(engine)
    assert current_revision(engine) == known_revisions()[0]
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    engine.dispose()


def test_a_new_store_created_at_head_equals_one_built_by_the_migrations(tmp_path: Path) -> None:
    """An empty database is created from the declared tables in one step (`ensure_schema`):
    the result must be the database the eight migrations build, to the index predicate."""
    engine = create_engine(metadata_url(tmp_path))
    _migrate_to_head(engine)
    migrated = _structure(engine)
    with engine.begin() as conn:
        metadata.drop_all(conn)
        conn.execute(sa.text("DROP TABLE alembic_version"))
    assert current_revision(engine) is None
    assert ensure_schema(engine, "test") == HEAD
    created = _structure(engine)
    assert created == migrated
    assert len(migrated) > 20  # the comparison saw the schema, not two empty databases
    engine.dispose()


def test_a_database_holding_a_foreign_table_of_the_same_name_is_not_stamped(
    tmp_path: Path,
) -> None:
    engine = create_engine(metadata_url(tmp_path))
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE runs (something_else INTEGER)"))
    with pytest.raises(Exception, match=r"(?i)already exists"):
        ensure_schema(engine, "test")
    assert current_revision(engine) is None  # nothing half-created, nothing stamped
    with engine.connect() as conn:
        assert sa.inspect(conn).get_table_names() == ["runs"]
    engine.dispose()


def test_the_fast_path_head_is_the_newest_script() -> None:
    """`ensure_schema` skips Alembic when the database is at HEAD: HEAD must be the scripts'."""
    assert known_revisions()[0] == HEAD


def test_a_database_behind_head_is_upgraded_on_first_use(tmp_path: Path) -> None:
    from alembic import command

    from loopline.store.sql._migrate import _alembic_config

    engine = create_engine(metadata_url(tmp_path))
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0006")
    assert current_revision(engine) == "0006"
    assert ensure_schema(engine, "test") == HEAD
    assert current_revision(engine) == HEAD
    engine.dispose()


def _fill_0007(engine: sa.Engine) -> list[tuple[str, str, float, int, float]]:
    """Two runs' points in the pre-0008 `metrics` table, inserted as rows: duplicate and
    out-of-order steps, ties broken by row id, and one key past a migrated chunk's size."""
    rows = [
        ("a" * 32, "loss", 0.5, 3, 1.0),
        ("a" * 32, "loss", 0.25, 1, 1.0),
        ("a" * 32, "loss", 0.75, 1, 1.0),  # same step and time: after the row above
        ("a" * 32, "auc", 0.9, 0, 2.0),
        ("b" * 32, "loss", 7.0, -2, 0.5),
        *(("b" * 32, "big", float(i), 10_050 - i, 3.0) for i in range(10_050)),
    ]
    with engine.begin() as conn:
        exp = conn.execute(sa.text("INSERT INTO experiments (name, created_at) VALUES ('m', 0)"))
        eid = (
            exp.lastrowid
            if engine.dialect.name == "sqlite"
            else conn.execute(sa.text("SELECT id FROM experiments WHERE name = 'm'")).scalar()
        )
        for rid in ("a" * 32, "b" * 32):
            conn.execute(
                sa.text(
                    "INSERT INTO runs (id, experiment_id, name, status, started_at, heartbeat_at)"
                    " VALUES (:id, :eid, :id, 'finished', 0, 0)"
                ),
                {"id": rid, "eid": eid},
            )
        conn.execute(
            sa.text(
                "INSERT INTO metrics (run_id, key, value, step, timestamp)"
                " VALUES (:r, :k, :v, :s, :t)"
            ),
            [{"r": r, "k": k, "v": v, "s": s, "t": ts} for r, k, v, s, ts in rows],
        )
    return rows


def test_0008_moves_existing_points_into_chunks_and_back(tmp_path: Path) -> None:
    from alembic import command

    from loopline.store import MetricPoint, SqlMetadataStore
    from loopline.store.sql._migrate import _alembic_config

    url = metadata_url(tmp_path)
    engine = create_engine(url)
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0007")
    rows = _fill_0007(engine)
    ensure_schema(engine, "test")
    store = SqlMetadataStore(url)
    for rid in ("a" * 32, "b" * 32):
        mine = [(i, r) for i, r in enumerate(rows) if r[0] == rid]
        mine.sort(key=lambda ir: (ir[1][1], ir[1][3], ir[1][4], ir[0]))  # key, step, time, id
        assert store.metric_history(rid) == [
            MetricPoint(k, v, s, ts) for _, (_, k, v, s, ts) in mine
        ]
    store.close()
    with engine.connect() as conn:
        assert not sa.inspect(conn).has_table("metrics")
        sizes = conn.execute(sa.text("SELECT n FROM metric_chunks WHERE key = 'big' ORDER BY id"))
        assert [n for (n,) in sizes] == [10_000, 50]  # bounded chunks, in logging order
    with engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0007")
    with engine.connect() as conn:
        back = conn.execute(
            sa.text("SELECT run_id, key, value, step, timestamp FROM metrics ORDER BY id")
        ).all()
        assert not sa.inspect(conn).has_table("metric_chunks")
    # the same rows; their order within each (run, key) (logging order) is kept
    by_key = sorted(rows, key=lambda r: (r[0], r[1]))
    assert sorted([tuple(r) for r in back], key=lambda r: (r[0], r[1])) == by_key
    engine.dispose()
