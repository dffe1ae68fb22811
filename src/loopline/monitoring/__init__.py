"""Monitoring: drift against the training reference, column signals (null rate, all null,
constant, vanished and new columns), sudden change, output drift, delayed-label performance,
training-serving skew, SLOs with error budgets, deduplicated alerts with runbooks, alert sinks
(store, Slack-compatible webhook), retrain triggers, and the one status/colour rule the report
and the UI share."""

from loopline.monitoring._alerts import (
    Finding,
    apply_findings,
    drift_findings,
    last_change_before,
    signal_findings,
)
from loopline.monitoring._config import MonitorConfig
from loopline.monitoring._data import Scored, load_capture, load_scored, window_seconds
from loopline.monitoring._monitor import DriftMonitor
from loopline.monitoring._performance import (
    LabelsIngested,
    ingest_labels,
    join_labels,
    list_labels,
    load_labels,
    performance_by_window,
    remove_labels,
)
from loopline.monitoring._reference import Threshold, judge
from loopline.monitoring._run import (
    MonitorReport,
    configured_sinks,
    monitor_for,
    monitoring_store,
    run_monitor,
    stored_history,
)
from loopline.monitoring._runbooks import RUNBOOKS, runbook
from loopline.monitoring._signals import SIGNALS, NullRateThreshold, column_signals
from loopline.monitoring._slo import SLO, error_budget, slo_report, window_status
from loopline.monitoring._status import STATUS_COLOURS, STATUSES, cell_status, status_colour
from loopline.monitoring._triggers import RetrainPolicy, retrain_reason, trigger_retrain
from loopline.store import (  # the alert-sink seam lives in the store layer (ADR)
    AlertSink,
    DeliveryError,
    Notification,
    StoreSink,
    WebhookSink,
    deliver,
    redeliver,
)

__all__ = [
    "RUNBOOKS",
    "SIGNALS",
    "SLO",
    "STATUSES",
    "STATUS_COLOURS",
    "AlertSink",
    "DeliveryError",
    "DriftMonitor",
    "Finding",
    "LabelsIngested",
    "MonitorConfig",
    "MonitorReport",
    "Notification",
    "NullRateThreshold",
    "RetrainPolicy",
    "Scored",
    "StoreSink",
    "Threshold",
    "WebhookSink",
    "apply_findings",
    "cell_status",
    "column_signals",
    "configured_sinks",
    "deliver",
    "drift_findings",
    "error_budget",
    "ingest_labels",
    "join_labels",
    "judge",
    "last_change_before",
    "list_labels",
    "load_capture",
    "load_labels",
    "load_scored",
    "monitor_for",
    "monitoring_store",
    "performance_by_window",
    "redeliver",
    "remove_labels",
    "retrain_reason",
    "run_monitor",
    "runbook",
    "signal_findings",
    "slo_report",
    "status_colour",
    "stored_history",
    "trigger_retrain",
    "window_seconds",
    "window_status",
]
