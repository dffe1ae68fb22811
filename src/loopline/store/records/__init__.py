"""Every record the metadata store returns, and the shared rules of their values (one
module per area, the same areas as `loopline.store.interfaces`).

Records are frozen dataclasses: a record is a snapshot, not a handle. They carry no I/O,
so any package may import them (all are re-exported by `loopline.store`)."""

from __future__ import annotations

from loopline.store.records.audit import GENESIS, AuditEvent, event_hash
from loopline.store.records.auth import ApiToken
from loopline.store.records.deployments import (
    DEPLOY_ACTIONS,
    DEPLOY_STATUSES,
    PROGRESS_ACTION,
    STRATEGIES,
    Deployment,
)
from loopline.store.records.monitoring import (
    LABELS_ACTIONS,
    SEVERITIES,
    Alert,
    AlertChange,
    Delivery,
    Monitor,
    MonitorRun,
    RetrainRequest,
    WindowResult,
    severity_rank,
)
from loopline.store.records.registry import (
    AliasMove,
    AliasPolicy,
    Approval,
    EvaluationRecord,
    GateDecisionRecord,
    ModelVersion,
    RegisteredModel,
    check_alias,
    check_model_name,
)
from loopline.store.records.runs import (
    RUN_STATUSES,
    Artifact,
    Dataset,
    DatasetUse,
    Experiment,
    Lineage,
    LineageEdge,
    MetricPoint,
    Run,
)

__all__ = [
    "DEPLOY_ACTIONS",
    "DEPLOY_STATUSES",
    "GENESIS",
    "LABELS_ACTIONS",
    "PROGRESS_ACTION",
    "RUN_STATUSES",
    "SEVERITIES",
    "STRATEGIES",
    "Alert",
    "AlertChange",
    "AliasMove",
    "AliasPolicy",
    "ApiToken",
    "Approval",
    "Artifact",
    "AuditEvent",
    "Dataset",
    "DatasetUse",
    "Delivery",
    "Deployment",
    "EvaluationRecord",
    "Experiment",
    "GateDecisionRecord",
    "Lineage",
    "LineageEdge",
    "MetricPoint",
    "ModelVersion",
    "Monitor",
    "MonitorRun",
    "RegisteredModel",
    "RetrainRequest",
    "Run",
    "WindowResult",
    "check_alias",
    "check_model_name",
    "event_hash",
    "severity_rank",
]
