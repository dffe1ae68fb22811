"""Tables of monitoring (revision 0004): monitors, window results, runs, alerts, their
deliveries and retrain requests."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from loopline.store.sql._schema.conventions import metadata

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
