"""Schema migrations: applied automatically on first use, or by `loopline db upgrade`.

Checking the schema is on the hot path of every CLI call and every `start_run`, so the
fast path reads `alembic_version` with one query, compares it with `HEAD`, and only loads
Alembic (about 100 ms of imports and script parsing) when an upgrade is actually needed.
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


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def ensure_schema(engine: sa.Engine, url_for_messages: str) -> str:
    """Bring the database to head; refuse one written by a newer Loopline. Returns head."""
    current = current_revision(engine)
    if current == HEAD:
        return HEAD
    from alembic import command

    head, known = known_revisions()
    if current is not None and current not in known:
        raise SchemaVersionError(
            f"the metadata store at {url_for_messages} has schema revision {current!r}, "
            "written by a newer Loopline than this one",
            hint="upgrade Loopline (pip install -U loopline) or point LOOPLINE_DB_URL elsewhere",
            details={"revision": current, "head": head},
        )
    # A write transaction serialises concurrent first uses (SQLite: BEGIN IMMEDIATE;
    # PostgreSQL: an advisory lock, and its DDL is transactional): the second process waits,
    # then finds the schema at head and Alembic does nothing.
    with engine.execution_options(**WRITE).begin() as conn:
        lock(conn, "schema")
        command.upgrade(_alembic_config(conn), "head")
    return head


__all__ = ["HEAD", "current_revision", "ensure_schema", "known_revisions"]
