"""promotion protocol in the store: alias policies, evaluation provenance

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("gate_decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("policy_revision", sa.Integer(), nullable=True))
    # Evaluations recorded before provenance existed have none: they are shown, but are not
    # evidence for a protected alias (re-evaluate with a ci-role token).
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recorded_by", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("recorder_role", sa.String(length=32), nullable=True))
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("creator_role", sa.String(length=32), nullable=True))
    op.create_table(
        "alias_policies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("set_by", sa.String(length=128), nullable=False),
        sa.Column("set_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["registered_models.id"],
            name=op.f("fk_alias_policies_model_id_registered_models"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alias_policies")),
        sa.UniqueConstraint("model_id", "alias", "revision", name="uq_alias_policies_revision"),
    )


def downgrade() -> None:
    op.drop_table("alias_policies")
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.drop_column("creator_role")
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.drop_column("recorder_role")
        batch_op.drop_column("recorded_by")
    with op.batch_alter_table("gate_decisions", schema=None) as batch_op:
        batch_op.drop_column("policy_revision")
