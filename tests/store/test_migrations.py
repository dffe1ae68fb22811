"""The Alembic migrations build exactly the schema the code declares."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from loopline.store._engine import create_engine
from loopline.store._migrate import HEAD, current_revision, ensure_schema, known_revisions
from loopline.store._schema import metadata
from tests._backends import metadata_url


def test_migrations_match_the_declared_schema(tmp_path: Path) -> None:
    engine = create_engine(metadata_url(tmp_path))  # SQLite, or PostgreSQL on PG runs
    head = ensure_schema(engine, "test")
    assert head == known_revisions()[0]
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    engine.dispose()


def test_the_fast_path_head_is_the_newest_script() -> None:
    """`ensure_schema` skips Alembic when the database is at HEAD: HEAD must be the scripts'."""
    assert known_revisions()[0] == HEAD


def test_a_database_behind_head_is_upgraded_on_first_use(tmp_path: Path) -> None:
    from alembic import command

    from loopline.store._migrate import _alembic_config

    engine = create_engine(metadata_url(tmp_path))
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0006")
    assert current_revision(engine) == "0006"
    assert ensure_schema(engine, "test") == HEAD
    assert current_revision(engine) == HEAD
    engine.dispose()
