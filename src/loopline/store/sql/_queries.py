"""Query builders and row mappers shared by the SQL metadata store: pure, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from loopline.errors import InvalidInputError
from loopline.store._chunks import CHUNK_COLUMNS, Chunk
from loopline.store.records import Dataset
from loopline.store.sql import _schema as t


@dataclass(frozen=True)
class RunOrder:
    """A parsed `--sort`: what runs are ordered by, and which way. Ties are broken by run
    id in the same direction, so an index can deliver the whole order without a sort."""

    field: str  # started_at | ended_at | name | status | metric | param
    key: str = ""  # the metric or param key
    desc: bool = True

    def direct(self, col: sa.ColumnElement[Any]) -> sa.UnaryExpression[Any]:
        return col.desc() if self.desc else col.asc()

    def clauses(self) -> tuple[sa.UnaryExpression[Any], ...]:
        """ORDER BY for one query over `runs` (every sort but a metric's, see `by_metric`)."""
        if self.field == "param":
            col: sa.ColumnElement[Any] = (
                sa.select(t.params.c.value)
                .where(t.params.c.run_id == t.runs.c.id, t.params.c.key == self.key)
                .scalar_subquery()
            )
        else:
            col = t.runs.c[self.field]
        return self.direct(col).nulls_last(), self.direct(t.runs.c.id)


def parse_order(sort: str | None) -> RunOrder:
    """Translate 'metric.auc desc' / 'param.C' / 'started_at' into a `RunOrder`."""
    if not sort:
        return RunOrder("started_at")
    field, _, direction = sort.strip().partition(" ")
    direction = direction.strip().lower() or "desc"
    if direction not in ("asc", "desc"):
        raise InvalidInputError(
            f"sort direction {direction!r} in {sort!r} is not asc or desc",
            hint="write e.g. --sort 'metric.auc desc'",
        )
    kind, _, key = field.partition(".")
    if kind in ("metric", "param") and key:
        return RunOrder(kind, key, direction == "desc")
    if field in ("started_at", "ended_at", "name", "status"):
        return RunOrder(field, desc=direction == "desc")
    raise InvalidInputError(
        f"cannot sort runs by {field!r}",
        hint="sort by metric.<key>, param.<key>, started_at, ended_at, name or status",
    )


def by_metric(
    order: RunOrder, where: sa.ColumnElement[bool], limit: int
) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """Run ids sorted by a metric's latest value, in two index-driven queries: the runs that
    have the metric, walking `ix_latest_metrics_key_value` in order and stopping at `limit`
    (so the cost does not grow with the number of runs), then the runs without it (nulls
    last), by id."""
    last = t.latest_metrics.c
    having = (
        sa.select(last.run_id)
        .join(t.runs, t.runs.c.id == last.run_id)
        .where(last.key == order.key, where)
        .order_by(order.direct(last.value), order.direct(last.run_id))
        .limit(limit)
    )
    has_it = sa.exists().where(last.run_id == t.runs.c.id, last.key == order.key)
    lacking = (
        sa.select(t.runs.c.id)
        .where(where, ~has_it)
        .order_by(order.direct(t.runs.c.id))
        .limit(limit)
    )
    return having, lacking


def group_by_run(rows: Any) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for r in rows:
        out.setdefault(r.run_id, {})[r.key] = r.value
    return out


def dataset_record(r: Any) -> Dataset:
    return Dataset(
        id=r.id,
        fingerprint=r.fingerprint,
        name=r.name,
        n_rows=r.n_rows,
        n_columns=r.n_columns,
        schema=r.schema,
        profile=r.profile,
        source=r.source,
        artifact_sha256=r.artifact_sha256,
        created_at=r.created_at,
    )


def write_batch(conn: sa.Connection, run_id: str, chunks: Sequence[Chunk], now: float) -> None:
    """Store a batch of metric points: its chunks (one row per key) appended to the history,
    each key's last point folded into `latest_metrics`, and the run's heartbeat refreshed.

    Three fixed statements run as the driver's own executemany: every value is a plain
    str/int/float/bytes, so none of SQLAlchemy's statement building, compiling or per-row
    processing is needed. This runs in the tracking writer thread, where each stretch of
    Python work holds up the training loop that logs (see `loopline.store._chunks`)."""
    sql = _batch_sql(conn.dialect)
    conn.exec_driver_sql(sql[0], [c.row(run_id) for c in chunks])
    conn.exec_driver_sql(sql[1], [(run_id, *c.last()) for c in chunks])
    conn.exec_driver_sql(sql[2], (now, run_id))


@lru_cache(maxsize=8)  # per dialect object: one per engine
def _batch_sql(dialect: sa.Dialect) -> tuple[str, str, str]:
    q = dialect.identifier_preparer.quote
    mark = "?" if dialect.paramstyle == "qmark" else "%s"

    def insert(table: str, columns: tuple[str, ...]) -> str:
        marks = ", ".join([mark] * len(columns))
        return f"INSERT INTO {table} ({', '.join(map(q, columns))}) VALUES ({marks})"

    # Per (run, key) the batch's last point replaces the stored one unless that one has a
    # higher step, or the same step and a newer timestamp (a tie goes to the point logged
    # last, as in the history). The same text is valid SQLite and PostgreSQL.
    step, ts = q("step"), q("timestamp")
    latest = (
        insert("latest_metrics", ("run_id", "key", "value", "step", "timestamp"))
        + f" ON CONFLICT ({q('run_id')}, {q('key')}) DO UPDATE SET "
        + ", ".join(f"{q(c)} = excluded.{q(c)}" for c in ("value", "step", "timestamp"))
        + f" WHERE excluded.{step} > latest_metrics.{step} OR (excluded.{step} = "
        f"latest_metrics.{step} AND excluded.{ts} >= latest_metrics.{ts})"
    )
    touch = f"UPDATE runs SET {q('heartbeat_at')} = {mark} WHERE {q('id')} = {mark}"
    return insert("metric_chunks", CHUNK_COLUMNS), latest, touch
