"""The Alembic migrations build exactly the schema the code declares."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from loopline.store._engine import create_engine
from loopline.store._migrate import ensure_schema, known_revisions
from loopline.store._schema import metadata
from tests._backends import metadata_url


def test_migrations_match_the_declared_schema(tmp_path: Path) -> None:
    engine = create_engine(metadata_url(tmp_path))  # SQLite, or PostgreSQL on PG runs
    head = ensure_schema(engine, "test")
    assert head == known_revisions()[0]
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    engine.dispose()
