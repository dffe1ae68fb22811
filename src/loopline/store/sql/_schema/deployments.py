"""The rollouts' table (revision 0003)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
)

from loopline.store.sql._schema.conventions import metadata

# One row per rollout of a model behind its serving endpoint. Every replica reads the
# active row for its model and routes the same way, so traffic policy state lives here,
# not in any one process.
deployments = Table(
    "deployments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_id", Integer, ForeignKey("registered_models.id"), nullable=False, index=True),
    Column("alias", String(64), nullable=False),
    # single | canary | shadow | blue_green | ab
    Column("strategy", String(16), nullable=False),
    Column("champion_version_id", Integer, ForeignKey("model_versions.id"), nullable=False),
    Column("challenger_version_id", Integer, ForeignKey("model_versions.id")),
    # canary steps, shadow fraction, A/B split, blue-green side, SLO thresholds
    Column("params", JSON, nullable=False),
    # active | completed | rolled_back | failed | stopped
    Column("status", String(16), nullable=False),
    Column("step", Integer, nullable=False),
    Column("challenger_percent", Float, nullable=False),
    Column("reason", Text),
    Column("created_by", String(128), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)
