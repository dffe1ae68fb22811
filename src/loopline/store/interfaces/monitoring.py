"""The monitoring area of the metadata store: monitors and their window results, alerts
(deduplicated: one open alert per rule and model), alert deliveries (with a dead letter)
and retrain requests (one pending per model). Every state change writes its audit event in
the same transaction."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from loopline.store.records import (
    Alert,
    AlertChange,
    Delivery,
    Monitor,
    MonitorRun,
    RetrainRequest,
    WindowResult,
)


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
    ) -> Monitor:
        """Create or replace the monitor of `uri` (audited as monitor.configured)."""

    @abstractmethod
    def get_monitor(self, uri: str) -> Monitor: ...

    @abstractmethod
    def list_monitors(self) -> list[Monitor]: ...

    @abstractmethod
    def record_monitor_run(
        self,
        monitor_id: int,
        windows: Sequence[WindowResult],
        *,
        status: str,
        summary: Mapping[str, Any],
        actor: str,
    ) -> MonitorRun:
        """Store (or replace, by start) the windows' results and the run, in one transaction."""

    @abstractmethod
    def list_windows(self, monitor_id: int, since: float | None = None) -> list[WindowResult]:
        """Stored window results, oldest first."""

    @abstractmethod
    def list_monitor_runs(self, monitor_id: int, limit: int = 100) -> list[MonitorRun]:
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
    def get_alert(self, alert_id: int) -> Alert: ...

    @abstractmethod
    def list_alerts(
        self, model: str | None = None, status: str | None = "open", limit: int = 1000
    ) -> list[Alert]:
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
    ) -> Delivery: ...

    @abstractmethod
    def update_delivery(
        self, delivery_id: int, *, status: str, attempts: int, error: str | None
    ) -> Delivery: ...

    @abstractmethod
    def list_deliveries(
        self, status: str | None = None, alert_id: int | None = None
    ) -> list[Delivery]: ...

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


__all__ = ["MonitoringStore"]
