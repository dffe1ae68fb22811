"""The monitoring part of the metadata-store seam: monitors and their window results, alerts
(deduplicated: one open alert per rule and model), alert deliveries (with a dead letter) and
retrain requests (one pending per model). Every state change writes its audit event in the
same transaction."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

SEVERITIES = ("info", "warning", "critical")
LABELS_ACTIONS = ("ingested", "removed")


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


@dataclass(frozen=True)
class MonitorRecord:
    id: int
    uri: str
    model: str
    window: str
    config: dict[str, Any]
    schedule: str | None
    created_by: str
    created_at: float
    updated_at: float
    last_run_at: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class WindowResult:
    """One capture window's results, as stored (`result` is the JSON the monitor computed)."""

    start: float
    end: float
    n_rows: int
    versions: list[int]
    result: dict[str, Any]
    computed_at: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MonitorRunRecord:
    id: int
    monitor_id: int
    at: float
    actor: str
    status: str
    n_windows: int
    n_rows: int
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AlertRecord:
    id: int
    model: str
    rule: str
    severity: str
    notified_severity: str
    status: str
    first_seen: float
    last_seen: float
    resolved_at: float | None
    count: int
    message: str
    runbook: str
    context: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AlertChange:
    """What raising or resolving did: `fired`, `escalated`, `repeated` or `resolved`.
    Only fired, escalated and resolved are notified."""

    alert: AlertRecord
    transition: str

    @property
    def notify(self) -> bool:
        return self.transition in ("fired", "escalated", "resolved")


@dataclass(frozen=True)
class DeliveryRecord:
    id: int
    alert_id: int
    event: str
    sink: str
    status: str
    attempts: int
    error: str | None
    payload: dict[str, Any]
    created_at: float
    updated_at: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RetrainRequest:
    id: int
    model: str
    version: int | None
    status: str
    reason: str
    context: dict[str, Any]
    alert_id: int | None
    requested_by: str
    requested_at: float
    updated_at: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class MonitoringStore(ABC):
    # monitors ---------------------------------------------------------------------------------
    @abstractmethod
    def save_monitor(
        self,
        uri: str,
        *,
        model: str,
        window: str,
        config: Mapping[str, Any],
        schedule: str | None,
        actor: str,
    ) -> MonitorRecord:
        """Create or replace the monitor of `uri` (audited as monitor.configured)."""

    @abstractmethod
    def get_monitor(self, uri: str) -> MonitorRecord: ...

    @abstractmethod
    def list_monitors(self) -> list[MonitorRecord]: ...

    @abstractmethod
    def record_monitor_run(
        self,
        monitor_id: int,
        windows: Sequence[WindowResult],
        *,
        status: str,
        summary: Mapping[str, Any],
        actor: str,
    ) -> MonitorRunRecord:
        """Store (or replace, by start) the windows' results and the run, in one transaction."""

    @abstractmethod
    def list_windows(self, monitor_id: int, since: float | None = None) -> list[WindowResult]:
        """Stored window results, oldest first."""

    @abstractmethod
    def list_monitor_runs(self, monitor_id: int, limit: int = 100) -> list[MonitorRunRecord]:
        """Newest first."""

    # alerts -----------------------------------------------------------------------------------
    @abstractmethod
    def raise_alert(
        self,
        model: str,
        rule: str,
        *,
        severity: str,
        message: str,
        runbook: str,
        context: Mapping[str, Any],
        actor: str,
    ) -> AlertChange:
        """Open the (model, rule) alert, or count a repeat of the open one; escalate it when
        `severity` exceeds the highest severity already notified."""

    @abstractmethod
    def resolve_alert(
        self, model: str, rule: str, *, actor: str, message: str
    ) -> AlertChange | None:
        """Resolve the open (model, rule) alert; None when there is none."""

    @abstractmethod
    def get_alert(self, alert_id: int) -> AlertRecord: ...

    @abstractmethod
    def list_alerts(
        self, model: str | None = None, status: str | None = "open", limit: int = 1000
    ) -> list[AlertRecord]:
        """Newest first; `status=None` lists resolved ones too."""

    @abstractmethod
    def record_delivery(
        self,
        alert_id: int,
        *,
        event: str,
        sink: str,
        status: str,
        attempts: int,
        error: str | None,
        payload: Mapping[str, Any],
    ) -> DeliveryRecord: ...

    @abstractmethod
    def update_delivery(
        self, delivery_id: int, *, status: str, attempts: int, error: str | None
    ) -> DeliveryRecord: ...

    @abstractmethod
    def list_deliveries(
        self, status: str | None = None, alert_id: int | None = None
    ) -> list[DeliveryRecord]: ...

    # retrain requests -------------------------------------------------------------------------
    @abstractmethod
    def request_retrain(
        self,
        model: str,
        version: int | None,
        *,
        reason: str,
        context: Mapping[str, Any],
        alert_id: int | None,
        actor: str,
    ) -> tuple[RetrainRequest, bool]:
        """(request, created). A model with a pending request gets that one back, uncreated."""

    @abstractmethod
    def update_retrain_request(
        self, request_id: int, *, status: str, actor: str, reason: str | None = None
    ) -> RetrainRequest:
        """Move a request on (started, done, cancelled); audited."""

    @abstractmethod
    def list_retrain_requests(
        self, model: str | None = None, status: str | None = None
    ) -> list[RetrainRequest]:
        """Newest first."""

    # delayed labels ---------------------------------------------------------------------------
    @abstractmethod
    def record_labels_change(
        self, model: str, *, action: str, labels_id: str, rows: int, source: str, actor: str
    ) -> None:
        """Audit a labels file of `model` being `ingested` or `removed` (event `labels.<action>`).
        The files live beside the capture; this is their record of who changed which."""


__all__ = [
    "LABELS_ACTIONS",
    "SEVERITIES",
    "AlertChange",
    "AlertRecord",
    "DeliveryRecord",
    "MonitorRecord",
    "MonitorRunRecord",
    "MonitoringStore",
    "RetrainRequest",
    "WindowResult",
    "severity_rank",
]
