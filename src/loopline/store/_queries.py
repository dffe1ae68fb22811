"""Query builders and row mappers shared by the SQL metadata store: pure, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from loopline.errors import InvalidInputError
from loopline.store import _schema as t
from loopline.store._records import Dataset

if TYPE_CHECKING:
    from loopline.store._base import PointTuple


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


def parse_order(order_by: str | None) -> RunOrder:
    """Translate 'metric.auc desc' / 'param.C' / 'started_at' into a `RunOrder`."""
    if not order_by:
        return RunOrder("started_at")
    field, _, direction = order_by.strip().partition(" ")
    direction = direction.strip().lower() or "desc"
    if direction not in ("asc", "desc"):
        raise InvalidInputError(
            f"sort direction {direction!r} in {order_by!r} is not asc or desc",
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


def upsert_latest(dialect: str, run_id: str, points: Sequence[PointTuple]) -> Any:
    """The statement that folds a batch of points into `latest_metrics`: per (run, key) the
    batch's last point replaces the stored one unless that one has a higher step, or the
    same step and a newer timestamp (a tie goes to the point logged last, as in the history)."""
    last: dict[str, PointTuple] = {}
    for point in points:  # later points win ties: they were logged after
        have = last.get(point[0])
        if have is None or (point[2], point[3]) >= (have[2], have[3]):
            last[point[0]] = point
    values = [
        {"run_id": run_id, "key": k, "value": v, "step": s, "timestamp": ts}
        for k, v, s, ts in last.values()
    ]
    # imported here: a dialect module is only loaded when used
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql as chosen
    else:
        from sqlalchemy.dialects import sqlite as chosen  # type: ignore[no-redef]
    insert = chosen.insert(t.latest_metrics)
    stored = t.latest_metrics.c
    return insert.values(values).on_conflict_do_update(
        index_elements=["run_id", "key"],
        set_={c: insert.excluded[c] for c in ("value", "step", "timestamp")},
        where=sa.or_(
            insert.excluded.step > stored.step,
            sa.and_(
                insert.excluded.step == stored.step, insert.excluded.timestamp >= stored.timestamp
            ),
        ),
    )


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


def insert_points(conn: sa.Connection, run_id: str, points: Sequence[PointTuple]) -> None:
    """Append metric points to the history, as the driver's own executemany of tuples.

    SQLAlchemy's executemany builds and processes one dict per row, about 5 us a point: at
    a million points that was most of `log_metric`'s cost. The statement is fixed and every
    value is a plain str/float/int, so nothing of SQLAlchemy's processing is needed."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    columns = ", ".join(conn.dialect.identifier_preparer.quote(c) for c in _POINT_COLUMNS)
    conn.exec_driver_sql(
        f"INSERT INTO metrics ({columns}) VALUES ({', '.join([mark] * len(_POINT_COLUMNS))})",
        [(run_id, k, v, s, ts) for k, v, s, ts in points],
    )


_POINT_COLUMNS = ("run_id", "key", "value", "step", "timestamp")
