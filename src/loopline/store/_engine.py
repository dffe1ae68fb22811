"""Creating SQLAlchemy engines: SQLite tuned for many small writers, PostgreSQL as is."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from loopline.errors import StoreUnavailableError

# Execution option that makes a transaction take SQLite's write lock at BEGIN. Without it
# a reader that later writes can fail with SQLITE_BUSY at once (lock upgrade deadlock)
# instead of waiting for the busy timeout.
WRITE = {"loopline_write": True}


def _sqlite_path(url: sa.URL) -> Path | None:
    db = url.database
    if not db or db == ":memory:" or db.startswith("file:"):
        return None
    return Path(db)


def _check_writable(path: Path, url: str) -> None:
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreUnavailableError(
            f"cannot create the Loopline home folder {folder}: {exc.strerror}",
            hint="set LOOPLINE_HOME (or LOOPLINE_DB_URL) to a writable location",
            details={"url": url},
        ) from None
    target = path if path.exists() else folder
    if not os.access(target, os.W_OK):
        raise StoreUnavailableError(
            f"the metadata store {path} is not writable by this user",
            hint="fix its permissions or set LOOPLINE_HOME to a writable location",
            details={"url": url},
        )


def create_engine(url: str) -> sa.Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and immediate write transactions."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise StoreUnavailableError(
            f"LOOPLINE_DB_URL {url!r} is not a database URL",
            hint="use sqlite:///path/to/loopline.db or postgresql+psycopg://user@host/db",
        ) from None
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True)

    path = _sqlite_path(parsed)
    if path is not None:
        _check_writable(path, url)
    engine = sa.create_engine(url, connect_args={"timeout": 60})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so BEGIN is ours to emit.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; safe in WAL mode
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        immediate = conn.get_execution_options().get("loopline_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


__all__ = ["WRITE", "create_engine"]
