"""Records of monitoring: monitors and their window results, alerts (one open per rule and
model) and their deliveries, retrain requests; and the severity scale."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SEVERITIES = ("info", "warning", "critical")
LABELS_ACTIONS = ("ingested", "removed")


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


@dataclass(frozen=True)
class Monitor:
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
class MonitorRun:
    id: int
    monitor_id: int
    at: float
    actor: str
    status: str
    n_windows: int
    n_rows: int
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Alert:
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

    alert: Alert
    transition: str

    @property
    def notify(self) -> bool:
        return self.transition in ("fired", "escalated", "resolved")


@dataclass(frozen=True)
class Delivery:
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


__all__ = [
    "LABELS_ACTIONS",
    "SEVERITIES",
    "Alert",
    "AlertChange",
    "Delivery",
    "Monitor",
    "MonitorRun",
    "RetrainRequest",
    "WindowResult",
    "severity_rank",
]
