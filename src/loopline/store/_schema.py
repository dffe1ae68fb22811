"""Relational schema of the metadata store (SQLAlchemy 2 Core tables).

Tables are Core, not ORM classes: the store moves rows in bulk (10,000 metric points
in one statement) and returns plain records, so an identity map would only cost time.
Later lifecycle concerns (registry, deployments, monitoring) add their tables in new
Alembic revisions; the columns here already carry the ids they will reference.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

# Deterministic constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Times are stored as float seconds since the epoch (UTC): portable, sortable, cheap to write.

experiments = Table(
    "experiments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(256), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("experiment_id", Integer, ForeignKey("experiments.id"), nullable=False, index=True),
    Column("name", String(256), nullable=False),
    # running | finished | failed | lost
    Column("status", String(16), nullable=False, index=True),
    Column("started_at", Float, nullable=False),
    Column("ended_at", Float),
    Column("heartbeat_at", Float, nullable=False),
    Column("error", Text),
    Column("user", String(128)),
    Column("host", String(256)),
    Column("pid", Integer),
    Column("proc_start", String(64)),
    Column("seed", BigInteger),
    Column("git_commit", String(64)),
    Column("git_dirty", Boolean),
    Column("git_remote", Text),
    Column("python_version", String(64)),
    Column("packages_hash", String(64)),
    Column("environment", JSON),
    # the listing's orders (newest first, in an experiment or across all), served by an index
    Index("ix_runs_experiment_started", "experiment_id", "started_at", "id"),
    Index("ix_runs_started", "started_at", "id"),
)

params = Table(
    "params",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id"), primary_key=True),
    Column("key", String(256), primary_key=True),
    Column("value", Text, nullable=False),
)

# Metric history as columnar chunks: one row per key per written batch, its points packed as
# raw little-endian arrays (int64 steps, float64 values and timestamps; numpy reads them with
# frombuffer, never pickle). One row per point cost ~140 bytes and ~4 us to write, which a
# training loop logging a point per microsecond outran; a chunk costs ~24 bytes a point.
# Logging order is chunk id, then position in the chunk: history ties sort on it.
metric_chunks = Table(
    "metric_chunks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), ForeignKey("runs.id"), nullable=False),
    Column("key", String(256), nullable=False),
    Column("n", Integer, nullable=False),
    Column("min_step", BigInteger, nullable=False),
    Column("max_step", BigInteger, nullable=False),
    Column("steps", LargeBinary, nullable=False),
    Column("vals", LargeBinary, nullable=False),
    Column("stamps", LargeBinary, nullable=False),
    Index("ix_metric_chunks_run_key", "run_id", "key", "id"),
)

# Each run's last point per key (highest step, then newest timestamp, then last logged),
# kept in the same transaction as the points: listing and sorting runs read this small table
# and never the point history, so their cost does not grow with every point ever logged.
latest_metrics = Table(
    "latest_metrics",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id"), primary_key=True),
    Column("key", String(256), primary_key=True),
    Column("value", Float, nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", Float, nullable=False),
    # sorting runs by a metric walks this index instead of every run
    Index("ix_latest_metrics_key_value", "key", "value", "run_id"),
)

tags = Table(
    "tags",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id"), primary_key=True),
    Column("key", String(256), primary_key=True),
    Column("value", Text, nullable=False),
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), ForeignKey("runs.id"), nullable=False, index=True),
    Column("path", String(1024), nullable=False),
    # file | model
    Column("kind", String(16), nullable=False),
    Column("sha256", String(64), nullable=False, index=True),
    Column("size", BigInteger, nullable=False),
    Column("meta", JSON),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("run_id", "path", name="uq_artifacts_run_path"),
)

datasets = Table(
    "datasets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("fingerprint", String(64), nullable=False, unique=True),
    Column("name", String(256), nullable=False, index=True),
    Column("n_rows", BigInteger, nullable=False),
    Column("n_columns", Integer, nullable=False),
    Column("schema", JSON, nullable=False),
    Column("profile", JSON, nullable=False),
    Column("source", Text),
    Column("artifact_sha256", String(64)),
    Column("created_at", Float, nullable=False),
)

run_datasets = Table(
    "run_datasets",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id"), primary_key=True),
    Column("dataset_id", Integer, ForeignKey("datasets.id"), primary_key=True),
    Column("name", String(256), primary_key=True),
    # training | validation | test | evaluation | scoring | ...
    Column("role", String(64), nullable=False),
)

lineage_edges = Table(
    "lineage_edges",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # kinds: dataset, run, artifact, model_version, deployment, commit
    Column("src_kind", String(32), nullable=False),
    Column("src_id", String(128), nullable=False),
    Column("dst_kind", String(32), nullable=False),
    Column("dst_id", String(128), nullable=False),
    Column("relation", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Index("ix_lineage_src", "src_kind", "src_id"),
    Index("ix_lineage_dst", "dst_kind", "dst_id"),
)

# Append-only, hash-chained: each row's `hash` covers its content and `prev_hash`, so an
# edited, deleted or reordered event breaks the chain (verified by `loopline audit verify`).
audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts", Float, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target_kind", String(32), nullable=False),
    Column("target_id", String(256), nullable=False),
    Column("before", JSON),
    Column("after", JSON),
    Column("reason", Text),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
)

# --- registry (revision 0002) -------------------------------------------------------------

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

# --- deployments (revision 0003) ----------------------------------------------------------

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

# --- monitoring (revision 0004) -----------------------------------------------------------

# One monitor per model URI (`models:/churn@production`): its window, thresholds, SLOs, alert
# sinks and retrain policy, and the cron schedule the server's scheduler runs it on.
monitors = Table(
    "monitors",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uri", String(300), nullable=False, unique=True),
    Column("model", String(256), nullable=False, index=True),
    Column("window_spec", String(16), nullable=False),
    Column("config", JSON, nullable=False),
    Column("schedule", String(128)),
    Column("created_by", String(128), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("last_run_at", Float),
)

# Results per capture window (drift vs reference and vs the previous window, output drift,
# latency, labelled performance). Re-running a window replaces its row, so a window has one
# result however often the monitor runs.
monitor_windows = Table(
    "monitor_windows",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("monitor_id", Integer, ForeignKey("monitors.id"), nullable=False),
    Column("window_start", Float, nullable=False),
    Column("window_end", Float, nullable=False),
    Column("n_rows", BigInteger, nullable=False),
    Column("versions", JSON, nullable=False),
    Column("result", JSON, nullable=False),
    Column("computed_at", Float, nullable=False),
    UniqueConstraint("monitor_id", "window_start", name="uq_monitor_windows_monitor_start"),
)

monitor_runs = Table(
    "monitor_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("monitor_id", Integer, ForeignKey("monitors.id"), nullable=False, index=True),
    Column("at", Float, nullable=False),
    Column("actor", String(128), nullable=False),
    # ok | no_data
    Column("status", String(16), nullable=False),
    Column("n_windows", Integer, nullable=False),
    Column("n_rows", BigInteger, nullable=False),
    Column("summary", JSON, nullable=False),
)

# At most one *open* alert per (model, rule): the partial unique index makes deduplication a
# database fact. A repeat bumps `count`/`last_seen`; `notified_severity` is the highest
# severity already sent, so only an escalation past it notifies again.
alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model", String(256), nullable=False),
    Column("rule", String(128), nullable=False),
    # info | warning | critical
    Column("severity", String(16), nullable=False),
    Column("notified_severity", String(16), nullable=False),
    # open | resolved
    Column("status", String(16), nullable=False),
    Column("first_seen", Float, nullable=False),
    Column("last_seen", Float, nullable=False),
    Column("resolved_at", Float),
    Column("count", Integer, nullable=False),
    Column("message", Text, nullable=False),
    Column("runbook", Text, nullable=False),
    Column("context", JSON, nullable=False),
    Index("ix_alerts_model_rule", "model", "rule"),
    Index(
        "uq_alerts_open_model_rule",
        "model",
        "rule",
        unique=True,
        sqlite_where=text("status = 'open'"),
        # PostgreSQL's copy is applied by store/_engine.py with the first PostgreSQL engine:
        # a postgresql_ option here would import that dialect on every start-up.
        info={"postgresql_where": "status = 'open'"},
    ),
)

# Every notification attempt's outcome; a `dead_letter` row keeps the payload to redeliver.
alert_deliveries = Table(
    "alert_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, ForeignKey("alerts.id"), nullable=False, index=True),
    # fired | escalated | resolved
    Column("event", String(16), nullable=False),
    Column("sink", String(512), nullable=False),
    # delivered | dead_letter
    Column("status", String(16), nullable=False, index=True),
    Column("attempts", Integer, nullable=False),
    Column("error", Text),
    Column("payload", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# At most one pending retrain request per model: a trigger that keeps firing finds it and
# does not ask again.
retrain_requests = Table(
    "retrain_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model", String(256), nullable=False, index=True),
    Column("version", Integer),
    # pending | started | done | cancelled
    Column("status", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("context", JSON, nullable=False),
    Column("alert_id", Integer, ForeignKey("alerts.id")),
    Column("requested_by", String(128), nullable=False),
    Column("requested_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index(
        "uq_retrain_requests_pending_model",
        "model",
        unique=True,
        sqlite_where=text("status = 'pending'"),
        # PostgreSQL's copy is applied by store/_engine.py with the first PostgreSQL engine:
        # a postgresql_ option here would import that dialect on every start-up.
        info={"postgresql_where": "status = 'pending'"},
    ),
)


# --- team server (revision 0005) -----------------------------------------------------------

# API tokens: only the sha256 of the secret is stored; the secret is shown once at creation.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("user", String(128), nullable=False, index=True),
    Column("role", String(32), nullable=False),
    Column("team", String(128)),
    Column("created_by", String(128), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float),
    Column("revoked_at", Float),
    Column("last_used_at", Float),
)
