"""Relational schema of the metadata store (SQLAlchemy 2 Core tables), one module per area.

Tables are Core, not ORM classes: the store moves rows in bulk (10,000 metric points
in one statement) and returns plain records, so an identity map would only cost time.
Each lifecycle concern added its tables in a new Alembic revision (`migrations/`); every
table belongs to the one `metadata` (`conventions.py`); importing this package defines
them all.
"""

from __future__ import annotations

from loopline.store.sql._schema.audit import audit_events
from loopline.store.sql._schema.auth import api_tokens
from loopline.store.sql._schema.conventions import metadata
from loopline.store.sql._schema.deployments import deployments
from loopline.store.sql._schema.monitoring import (
    alert_deliveries,
    alerts,
    monitor_runs,
    monitor_windows,
    monitors,
    retrain_requests,
)
from loopline.store.sql._schema.registry import (
    alias_moves,
    alias_policies,
    approvals,
    evaluations,
    gate_decisions,
    model_aliases,
    model_versions,
    registered_models,
)
from loopline.store.sql._schema.runs import (
    artifacts,
    datasets,
    experiments,
    latest_metrics,
    lineage_edges,
    metric_chunks,
    params,
    run_datasets,
    runs,
    tags,
)

__all__ = [
    "alert_deliveries",
    "alerts",
    "alias_moves",
    "alias_policies",
    "api_tokens",
    "approvals",
    "artifacts",
    "audit_events",
    "datasets",
    "deployments",
    "evaluations",
    "experiments",
    "gate_decisions",
    "latest_metrics",
    "lineage_edges",
    "metadata",
    "metric_chunks",
    "model_aliases",
    "model_versions",
    "monitor_runs",
    "monitor_windows",
    "monitors",
    "params",
    "registered_models",
    "retrain_requests",
    "run_datasets",
    "runs",
    "tags",
]
