"""Tables of the registry (revision 0002; provenance and alias policies: 0006)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from loopline.store.sql._schema.conventions import metadata

registered_models = Table(
    "registered_models",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(256), nullable=False, unique=True),
    Column("description", Text),
    Column("owner", String(128)),
    Column("created_at", Float, nullable=False),
    # Who answers for the model (revision 0005): shown on the model card and in alerts.
    Column("team", String(128)),
    Column("oncall", String(256)),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_id", Integer, ForeignKey("registered_models.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("run_id", String(32), ForeignKey("runs.id"), nullable=False, index=True),
    Column("artifact_path", String(1024), nullable=False),
    # sha256 of the model manifest: the version's identity, checked on every load
    Column("sha256", String(64), nullable=False),
    Column("flavor", String(32), nullable=False),
    Column("signature", JSON),
    Column("metrics", JSON, nullable=False),
    Column("git_commit", String(64)),
    Column("created_by", String(128), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("card", JSON, nullable=False),
    # revision 0006: the registrant's role; its training metrics are evidence for a
    # protected alias only when that role is trusted (identity.TRUSTED_EVALUATOR_ROLES).
    Column("creator_role", String(32)),
    UniqueConstraint("model_id", "version", name="uq_model_versions_model_version"),
)

# The current holder of each alias. The primary key makes "exactly one version per alias" a
# database fact, not a convention.
model_aliases = Table(
    "model_aliases",
    metadata,
    Column("model_id", Integer, ForeignKey("registered_models.id"), primary_key=True),
    Column("alias", String(64), primary_key=True),
    Column("version_id", Integer, ForeignKey("model_versions.id"), nullable=False),
    Column("moved_at", Float, nullable=False),
    Column("moved_by", String(128), nullable=False),
)

# Every move of every alias, in order: what rollback walks back through.
alias_moves = Table(
    "alias_moves",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_id", Integer, ForeignKey("registered_models.id"), nullable=False),
    Column("alias", String(64), nullable=False),
    Column("from_version_id", Integer, ForeignKey("model_versions.id")),
    Column("to_version_id", Integer, ForeignKey("model_versions.id"), nullable=False),
    # promote | rollback | set
    Column("action", String(16), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("reason", Text),
    Column("gate_decision_id", Integer, ForeignKey("gate_decisions.id")),
    Column("at", Float, nullable=False),
    Index("ix_alias_moves_model_alias", "model_id", "alias", "id"),
)

approvals = Table(
    "approvals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version_id", Integer, ForeignKey("model_versions.id"), nullable=False, index=True),
    Column("approver", String(128), nullable=False),
    Column("role", String(64), nullable=False),
    Column("comment", Text),
    Column("at", Float, nullable=False),
    UniqueConstraint("version_id", "approver", name="uq_approvals_version_approver"),
)

gate_decisions = Table(
    "gate_decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version_id", Integer, ForeignKey("model_versions.id"), nullable=False, index=True),
    Column("alias", String(64), nullable=False),
    Column("champion_version_id", Integer, ForeignKey("model_versions.id")),
    Column("policy", JSON, nullable=False),
    Column("passed", Boolean, nullable=False),
    # [{rule, value, threshold, verdict, reason}], in policy order
    Column("rules", JSON, nullable=False),
    Column("decided_by", String(128), nullable=False),
    Column("at", Float, nullable=False),
    # revision 0006: the registered policy revision a protected alias's decision used
    Column("policy_revision", Integer),
)

evaluations = Table(
    "evaluations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version_id", Integer, ForeignKey("model_versions.id"), nullable=False, index=True),
    Column("dataset_fingerprint", String(64), nullable=False),
    Column("task", String(32), nullable=False),
    Column("metrics", JSON, nullable=False),
    Column("slices", JSON, nullable=False),
    Column("at", Float, nullable=False),
    # revision 0006: provenance. Only evaluations whose recorder held a trusted role
    # (identity.TRUSTED_EVALUATOR_ROLES) are evidence for a protected alias.
    Column("recorded_by", String(128)),
    Column("recorder_role", String(32)),
)

# revision 0006: the gate policy of a protected alias, registered server-side per model.
# Append-only: each change is a new revision, so a decision names the revision it used.
alias_policies = Table(
    "alias_policies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_id", Integer, ForeignKey("registered_models.id"), nullable=False),
    Column("alias", String(64), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("policy", JSON, nullable=False),
    Column("set_by", String(128), nullable=False),
    Column("set_at", Float, nullable=False),
    UniqueConstraint("model_id", "alias", "revision", name="uq_alias_policies_revision"),
)
