"""metric history as columnar chunks instead of one row per point (issue 18)

Existing points move into chunks of up to `_CHUNK` points per (run, key), in their logging
order (the old row id), then `metrics` is dropped. The packing is written out here rather
than imported, so this script keeps doing what it did whatever later code changes.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_CHUNK = 10_000  # points per migrated chunk: bounded memory, whatever the table's size
_STEP = np.dtype("<i8")
_FLOAT = np.dtype("<f8")

_chunks = sa.table(
    "metric_chunks",
    sa.column("run_id"),
    sa.column("key"),
    sa.column("n"),
    sa.column("min_step"),
    sa.column("max_step"),
    sa.column("steps"),
    sa.column("vals"),
    sa.column("stamps"),
)
_points = sa.table(
    "metrics",
    sa.column("run_id"),
    sa.column("key"),
    sa.column("value"),
    sa.column("step"),
    sa.column("timestamp"),
)


def upgrade() -> None:
    op.create_table(
        "metric_chunks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=256), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("min_step", sa.BigInteger(), nullable=False),
        sa.Column("max_step", sa.BigInteger(), nullable=False),
        sa.Column("steps", sa.LargeBinary(), nullable=False),
        sa.Column("vals", sa.LargeBinary(), nullable=False),
        sa.Column("stamps", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_metric_chunks_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_chunks")),
    )
    op.create_index("ix_metric_chunks_run_key", "metric_chunks", ["run_id", "key", "id"])
    conn = op.get_bind()
    # streamed (a server-side cursor on PostgreSQL): the table may hold millions of points
    rows = conn.execute(
        sa.text("SELECT run_id, key, value, step, timestamp FROM metrics ORDER BY run_id, key, id"),
        execution_options={"stream_results": True, "yield_per": _CHUNK},
    )
    batch: list[dict[str, Any]] = []
    for chunk in _packed(rows):
        batch.append(chunk)
        if len(batch) >= 100:
            conn.execute(sa.insert(_chunks), batch)
            batch = []
    if batch:
        conn.execute(sa.insert(_chunks), batch)
    op.drop_index("ix_metrics_run_key_step", table_name="metrics")
    op.drop_table("metrics")


def _packed(rows: Any) -> Iterator[dict[str, Any]]:
    """Chunks of consecutive rows of one (run, key), at most `_CHUNK` points each."""
    group: list[Any] = []
    for r in rows:
        if group and (len(group) >= _CHUNK or (r.run_id, r.key) != (group[0].run_id, group[0].key)):
            yield _chunk(group)
            group = []
        group.append(r)
    if group:
        yield _chunk(group)


def _chunk(group: list[Any]) -> dict[str, Any]:
    steps = np.array([r.step for r in group], dtype=_STEP)
    return {
        "run_id": group[0].run_id,
        "key": group[0].key,
        "n": len(group),
        "min_step": int(steps.min()),
        "max_step": int(steps.max()),
        "steps": steps.tobytes(),
        "vals": np.array([r.value for r in group], dtype=_FLOAT).tobytes(),
        "stamps": np.array([r.timestamp for r in group], dtype=_FLOAT).tobytes(),
    }


def downgrade() -> None:
    op.create_table(
        "metrics",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=256), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_metrics_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metrics")),
    )
    op.create_index("ix_metrics_run_key_step", "metrics", ["run_id", "key", "step"])
    conn = op.get_bind()
    chunks = conn.execute(
        sa.text("SELECT run_id, key, steps, vals, stamps FROM metric_chunks ORDER BY id"),
        execution_options={"stream_results": True, "yield_per": 100},
    )
    for c in chunks:  # chunk id order is logging order: the new row ids keep it
        steps = np.frombuffer(c.steps, dtype=_STEP).tolist()
        values = np.frombuffer(c.vals, dtype=_FLOAT).tolist()
        stamps = np.frombuffer(c.stamps, dtype=_FLOAT).tolist()
        conn.execute(
            sa.insert(_points),
            [
                {"run_id": c.run_id, "key": c.key, "value": v, "step": s, "timestamp": ts}
                for v, s, ts in zip(values, steps, stamps, strict=True)
            ],
        )
    op.drop_index("ix_metric_chunks_run_key", table_name="metric_chunks")
    op.drop_table("metric_chunks")
