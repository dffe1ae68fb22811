"""Query builders and row mappers shared by the SQL metadata store: pure, no I/O."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from loopline.errors import InvalidInputError
from loopline.store import _schema as t
from loopline.store._records import Dataset


def order_clause(order_by: str | None) -> sa.UnaryExpression[Any]:
    """Translate 'metric.auc desc' / 'param.C' / 'started_at' into a sort expression."""
    if not order_by:
        return t.runs.c.started_at.desc()
    field, _, direction = order_by.strip().partition(" ")
    direction = direction.strip().lower() or "desc"
    if direction not in ("asc", "desc"):
        raise InvalidInputError(
            f"sort direction {direction!r} in {order_by!r} is not asc or desc",
            hint="write e.g. --sort 'metric.auc desc'",
        )
    kind, _, key = field.partition(".")
    if kind == "metric" and key:
        last = latest_metrics().subquery()
        col: sa.ColumnElement[Any] = (
            sa.select(last.c.value)
            .where(last.c.run_id == t.runs.c.id, last.c.key == key)
            .scalar_subquery()
        )
    elif kind == "param" and key:
        col = (
            sa.select(t.params.c.value)
            .where(t.params.c.run_id == t.runs.c.id, t.params.c.key == key)
            .scalar_subquery()
        )
    elif field in ("started_at", "ended_at", "name", "status"):
        col = t.runs.c[field]
    else:
        raise InvalidInputError(
            f"cannot sort runs by {field!r}",
            hint="sort by metric.<key>, param.<key>, started_at, ended_at, name or status",
        )
    ordered = col.asc() if direction == "asc" else col.desc()
    return ordered.nulls_last()


def latest_metrics() -> sa.Select[Any]:
    """(run_id, key, value) of each run's last point per key: highest step, then newest."""
    rank = (
        sa.func.row_number()
        .over(
            partition_by=(t.metrics.c.run_id, t.metrics.c.key),
            order_by=(
                t.metrics.c.step.desc(),
                t.metrics.c.timestamp.desc(),
                t.metrics.c.id.desc(),
            ),
        )
        .label("rn")
    )
    ranked = sa.select(t.metrics.c.run_id, t.metrics.c.key, t.metrics.c.value, rank).subquery()
    return sa.select(ranked.c.run_id, ranked.c.key, ranked.c.value).where(ranked.c.rn == 1)


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
