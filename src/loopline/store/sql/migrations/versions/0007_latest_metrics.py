"""latest value per (run, key) and the listing's indexes (issue 18)

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "latest_metrics",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=256), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_latest_metrics_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", "key", name=op.f("pk_latest_metrics")),
    )
    op.create_index("ix_latest_metrics_key_value", "latest_metrics", ["key", "value", "run_id"])
    op.create_index("ix_runs_experiment_started", "runs", ["experiment_id", "started_at", "id"])
    op.create_index("ix_runs_started", "runs", ["started_at", "id"])
    # One pass over the existing points: each run's last point per key, as the listing
    # computed it before (highest step, then newest timestamp, then last logged).
    op.execute(
        """
        INSERT INTO latest_metrics (run_id, key, value, step, timestamp)
        SELECT run_id, key, value, step, timestamp FROM (
            SELECT run_id, key, value, step, timestamp,
                   row_number() OVER (PARTITION BY run_id, key
                                      ORDER BY step DESC, timestamp DESC, id DESC) AS rn
            FROM metrics
        ) ranked WHERE rn = 1
        """
    )


def downgrade() -> None:
    op.drop_index("ix_runs_started", table_name="runs")
    op.drop_index("ix_runs_experiment_started", table_name="runs")
    op.drop_index("ix_latest_metrics_key_value", table_name="latest_metrics")
    op.drop_table("latest_metrics")
