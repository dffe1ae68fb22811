"""Schema migrations: applied automatically on first use, or by `loopline db upgrade`.

Checking the schema is on the hot path of every CLI call and every `start_run`, so the
fast path reads `alembic_version` with one query, compares it with `HEAD`, and only loads
Alembic (about 100 ms of imports and script parsing) when an upgrade is actually needed.

An empty database (a new project's first command, every test's store) is created at head in
one step: the declared tables (`_schema.metadata`, which the migrations must build exactly,
see tests/store/test_migrations.py) plus Alembic's version row, as Alembic's own cookbook
does for a fresh database. Replaying eight migrations, each a transaction of its own with
SQLite table rebuilds, cost ~90 ms per new store and Alembic's import besides.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from loopline.errors import SchemaVersionError
from loopline.store.sql._engine import WRITE, lock

if TYPE_CHECKING:
    from alembic.config import Config

_SCRIPTS = Path(__file__).parent / "migrations"
# The newest script's revision: a new migration moves it (a test compares it with the scripts).
HEAD = "0008"


def _alembic_config(connection: sa.Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_SCRIPTS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@lru_cache(maxsize=1)
def known_revisions() -> tuple[str, tuple[str, ...]]:
    """(head revision, every revision this Loopline knows), read from the scripts."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(_alembic_config())
    head = scripts.get_current_head()
    assert head is not None, "migration scripts are missing from the package"
    return head, tuple(rev.revision for rev in scripts.walk_revisions())


# Alembic's version table, as Alembic itself creates it (same column and constraint name).
_VERSION = sa.Table(
    "alembic_version",
    sa.MetaData(),
    sa.Column("version_num", sa.String(32), nullable=False),
    sa.PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as conn:
        return _revision(conn)


def _revision(conn: sa.Connection) -> str | None:
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(sa.select(_VERSION.c.version_num)).scalar()


def _create_at_head(conn: sa.Connection) -> None:
    """Create every declared table in the empty database behind `conn`, stamped at HEAD."""
    from loopline.store.sql._schema import metadata

    metadata.create_all(conn, checkfirst=False)  # a foreign table of the same name: an error
    _VERSION.create(conn)
    conn.execute(_VERSION.insert().values(version_num=HEAD))


def ensure_schema(engine: sa.Engine, url_for_messages: str) -> str:
    """Bring the database to head; refuse one written by a newer Loopline. Returns head."""
    current = current_revision(engine)
    if current == HEAD:
        return HEAD
    if current is not None:
        head, known = known_revisions()
        if current not in known:
            raise SchemaVersionError(
                f"the metadata store at {url_for_messages} has schema revision {current!r}, "
                "written by a newer Loopline than this one",
                hint="upgrade Loopline (pip install -U loopline) or point LOOPLINE_DB_URL "
                "elsewhere",
                details={"revision": current, "head": head},
            )
    # A write transaction serialises concurrent first uses (SQLite: BEGIN IMMEDIATE;
    # PostgreSQL: an advisory lock, and its DDL is transactional): the second process waits,
    # then finds the schema at head and Alembic does nothing.
    with engine.execution_options(**WRITE).begin() as conn:
        lock(conn, "schema")
        if _revision(conn) is None:
            _create_at_head(conn)
        else:
            from alembic import command

            command.upgrade(_alembic_config(conn), "head")
    return HEAD


__all__ = ["HEAD", "current_revision", "ensure_schema", "known_revisions"]
