"""Creating SQLAlchemy engines, and the locks that keep concurrent writers correct.

SQLite: WAL, a busy timeout, and write transactions that take the database's one write lock at
BEGIN (BEGIN IMMEDIATE), so every write transaction runs alone.

PostgreSQL: a connection pool (sizes from the URL's query, see `_POOL_OPTIONS`), and explicit
locks where the store reads and then writes:

- `CONTROL` transactions (registry, promotions, deployments, monitors, alerts: everything that
  appends to the hash-chained audit log) take one transaction-scoped advisory lock as their
  first statement. They run one at a time, as on SQLite, so the audit chain stays linear and
  read-then-write rules ("next version number", "one open alert per rule") hold. Taking it
  first, before any row lock, gives every such transaction the same lock order: no deadlocks.
- `lock(conn, key)` takes a keyed advisory lock for the tracking hot path (one experiment name,
  one run, one dataset fingerprint), so concurrent runs never wait on each other.
- Alias moves also lock the model's row (SELECT ... FOR NO KEY UPDATE, `_sql_promotion`).

On SQLite `lock` does nothing: the write transaction already excludes every other writer.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from loopline.errors import NotFoundError, StoreUnavailableError

# Execution option that makes a transaction take SQLite's write lock at BEGIN. Without it
# a reader that later writes can fail with SQLITE_BUSY at once (lock upgrade deadlock)
# instead of waiting for the busy timeout.
WRITE = {"loopline_write": True}
# A write that must run alone among control-plane writes (and before any other lock it takes):
# see the module docstring. On SQLite it is the same as WRITE.
CONTROL = {"loopline_write": True, "loopline_control": True}

# Connection-pool settings read from (and removed from) a PostgreSQL URL's query string, e.g.
# postgresql+psycopg://loopline@db/loopline?pool_size=10&max_overflow=20. Defaults below.
_POOL_OPTIONS: dict[str, tuple[type, int]] = {
    "pool_size": (int, 5),  # connections kept open per process
    "max_overflow": (int, 10),  # extra connections under bursts, closed when returned
    "pool_timeout": (int, 30),  # seconds to wait for a free connection before failing
    "pool_recycle": (int, 1800),  # reopen connections older than this (idle-killing proxies)
}
_CONNECT_TIMEOUT = 10  # seconds; libpq waits forever by default


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for `name` (same in every process)."""
    return int.from_bytes(
        hashlib.sha256(f"loopline:{name}".encode()).digest()[:8], "big", signed=True
    )


CONTROL_KEY = lock_key("control")
SCHEMA_KEY = lock_key("schema")


def lock(conn: sa.Connection, *names: str) -> None:
    """Hold advisory locks on `names` until `conn`'s transaction ends (PostgreSQL; else no-op).

    Take several in one call (they are taken in sorted order) so that two transactions never
    wait on each other crosswise.
    """
    if conn.dialect.name != "postgresql":
        return
    for key in sorted({lock_key(n) for n in names}):
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def lock_control(conn: sa.Connection) -> None:
    """Hold the control-plane lock until commit (PostgreSQL; no-op on SQLite).

    A CONTROL transaction took it at BEGIN already; any other transaction takes it here.
    """
    if conn.dialect.name == "postgresql" and not conn.get_execution_options().get(
        "loopline_control", False
    ):
        _take_control(conn)


def _take_control(conn: sa.Connection) -> None:
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": CONTROL_KEY})


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _json_for_postgres(value: Any) -> str:
    """JSON for PostgreSQL, which refuses NaN and Infinity: they are stored as null (as the
    monitoring code already writes them)."""
    try:
        return json.dumps(value, allow_nan=False)
    except ValueError:
        return json.dumps(_finite(value), allow_nan=False)


def _sqlite_path(url: sa.URL) -> Path | None:
    db = url.database
    if not db or db == ":memory:" or db.startswith("file:"):
        return None
    return Path(db)


class NoStoreError(NotFoundError):
    """A read-only command found no store where the settings point: nothing is created."""

    code = "no_store"


def check_store_exists(url: str, home: Path) -> None:
    """`NoStoreError` naming where it looked when `url` is a local SQLite file not created
    yet (a server database exists or fails on its own, and is never created here)."""
    try:
        path = _sqlite_path(sa.make_url(url)) if url.startswith("sqlite") else None
    except sa.exc.ArgumentError:
        return  # `create_engine` says what is wrong with the URL
    if path is None or path.exists():
        return
    where = home if path.parent.resolve() == home.resolve() else path
    raise NoStoreError(
        f"no Loopline store at {where.resolve()} (set LOOPLINE_HOME or run from your project)"
    )


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
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        return _postgres_engine(parsed, url)
    if backend != "sqlite":
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


def _where(url: sa.URL) -> str:
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


def _postgres_partial_indexes() -> None:
    """Give the schema's partial indexes their PostgreSQL predicate, kept in `Index.info`:
    a `postgresql_where=` argument makes SQLAlchemy import the PostgreSQL dialect to check
    it, at every start-up, for DDL only PostgreSQL reads (`dialect_kwargs` is writable)."""
    from loopline.store.sql._schema import metadata

    for table in metadata.tables.values():
        for index in table.indexes:
            where = index.info.get("postgresql_where")
            if where is not None:
                index.dialect_kwargs["postgresql_where"] = sa.text(where)


def _postgres_engine(parsed: sa.URL, url: str) -> sa.Engine:
    query = dict(parsed.query)
    pool: dict[str, Any] = {}
    for key, (kind, default) in _POOL_OPTIONS.items():
        raw = query.pop(key, None)
        try:
            pool[key] = kind(raw) if raw is not None else default
        except ValueError:
            raise StoreUnavailableError(
                f"LOOPLINE_DB_URL option {key}={raw!r} is not a whole number",
                hint=f"write e.g. ?{key}={default}",
            ) from None
    _postgres_partial_indexes()
    connect_args: dict[str, Any] = {"application_name": "loopline"}
    if "connect_timeout" not in query:
        connect_args["connect_timeout"] = _CONNECT_TIMEOUT
    clean = parsed.set(query=query)
    try:
        engine = sa.create_engine(
            clean,
            pool_pre_ping=True,
            connect_args=connect_args,
            json_serializer=_json_for_postgres,
            **pool,
        )
    except ImportError:
        raise StoreUnavailableError(
            "LOOPLINE_DB_URL names PostgreSQL but its driver psycopg is not installed",
            hint="pip install 'loopline[postgres]'",
        ) from None
    where = _where(parsed)

    @event.listens_for(engine, "handle_error")
    def _unreachable(ctx: sa.engine.ExceptionContext) -> None:
        # Only failures to open a connection; errors of a statement stay as they are.
        if (
            not ctx.is_pre_ping
            and ctx.connection is None
            and isinstance(ctx.sqlalchemy_exception, sa.exc.OperationalError)
        ):
            first = (
                str(ctx.original_exception).strip().splitlines()[0]
                if ctx.original_exception
                else ""
            )
            raise StoreUnavailableError(
                f"cannot connect to the PostgreSQL metadata store at {where}: {first}",
                hint="check that the server is running and reachable from here, and the host, "
                "port, user, password and database in LOOPLINE_DB_URL",
                details={"url": parsed.render_as_string(hide_password=True)},
            ) from ctx.original_exception

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        if conn.get_execution_options().get("loopline_control", False):
            _take_control(conn)  # first statement: the same lock order everywhere

    _ENGINES.add(engine)
    return engine


# A forked child (serving workers, multiprocessing) must not reuse its parent's pooled
# connections: the two processes would talk over one socket. Drop them, without closing
# them, in the child (SQLAlchemy's recipe for pools and os.fork).
_ENGINES: weakref.WeakSet[sa.Engine] = weakref.WeakSet()


def _forget_pools_after_fork() -> None:
    for engine in list(_ENGINES):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_pools_after_fork)


__all__ = [
    "CONTROL",
    "WRITE",
    "NoStoreError",
    "check_store_exists",
    "create_engine",
    "lock",
    "lock_control",
    "lock_key",
]


@dataclass(frozen=True)
class Engines:
    """The engines one store's areas share: `read` for plain reads, `write` for tracking
    writes (SQLite's write lock at BEGIN), `control` for control-plane writes (see above)."""

    url: str
    read: sa.Engine
    write: sa.Engine
    control: sa.Engine

    @classmethod
    def over(cls, url: str, engine: sa.Engine) -> Engines:
        return cls(
            url, engine, engine.execution_options(**WRITE), engine.execution_options(**CONTROL)
        )


class SqlRepository:
    """One area of the metadata store (runs, registry, deployments…) over the engines it shares
    with the others. `SqlMetadataStore` composes one repository per area; rules that span
    areas are functions of a connection (`find_version`, `alias_holder`, `move_alias_in`…), so
    no repository reaches into another."""

    def __init__(self, engines: Engines) -> None:
        self.url = engines.url
        self._engine = engines.read
        self._write_engine = engines.write
        self._control_engine = engines.control
