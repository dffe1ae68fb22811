"""The alert-sink seam: `AlertSink.send(notification)`.

It lives in the store layer, next to the alert and delivery records it notifies about, so
that every layer that raises alerts delivers them the same way: monitoring (drift, SLOs)
and serving (an automatic canary rollback) alike. `loopline.monitoring` re-exports it.

- `StoreSink` (always on): the alert row *is* the notification; `loopline monitors alerts` and
  the UI read it. Sending records nothing more.
- `WebhookSink(url)`: POSTs a Slack-compatible JSON body (`text` + `blocks`; extra keys under
  `loopline` for machines) with retries and exponential backoff on connection errors, 5xx and
  429. A receiver that still fails leaves a `dead_letter` delivery holding the payload, so
  nothing is lost: `loopline monitors redeliver` sends dead letters again.

Webhook URLs are secrets (Slack's carry the token in the path): only the scheme and host are
ever printed or stored outside the monitor's configuration.
"""

from __future__ import annotations

import hashlib
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from loopline.errors import InvalidInputError
from loopline.store.interfaces import MonitoringStore
from loopline.store.records import Alert, AlertChange, Delivery

_ICON = {"critical": ":red_circle:", "warning": ":warning:", "info": ":information_source:"}


class DeliveryError(Exception):
    def __init__(self, message: str, attempts: int) -> None:
        super().__init__(message)
        self.attempts = attempts


@dataclass(frozen=True)
class Notification:
    event: str  # fired | escalated | resolved
    alert: Alert

    def payload(self) -> dict[str, Any]:
        a = self.alert
        icon = ":white_check_mark:" if self.event == "resolved" else _ICON.get(a.severity, "")
        head = f"{icon} [{a.severity.upper()}] {a.model}: {a.rule} {self.event}"
        body = f"{a.message}\nseen {a.count}x since the alert opened"
        return {
            "text": f"{head}\n{a.message}",
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": f"*{head}*\n{body}"}},
                {
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": f"*What to do*\n{a.runbook}"},
                },
            ],
            "loopline": {"event": self.event, "alert": a.as_dict()},
        }


class AlertSink(ABC):
    name: str

    @abstractmethod
    def send(self, notification: Notification) -> int:
        """Deliver; returns the number of attempts it took. Raises DeliveryError."""

    def send_payload(self, payload: dict[str, Any]) -> int:
        """Deliver a payload built earlier (redelivery of a dead letter)."""
        raise DeliveryError(f"{self.name} cannot redeliver", 0)


class StoreSink(AlertSink):
    name = "store"

    def send(self, notification: Notification) -> int:
        return 1  # the alert row in the store is what the CLI and UI show


def redact(url: str) -> str:
    """A printable name for a webhook: scheme, host and a digest that tells URLs apart."""
    parts = urlsplit(url)
    digest = hashlib.sha256(url.encode()).hexdigest()[:8]
    return f"webhook:{parts.scheme}://{parts.netloc}/…#{digest}"


class WebhookSink(AlertSink):
    """POST JSON to a Slack-compatible incoming webhook."""

    def __init__(
        self, url: str, *, retries: int = 3, backoff_s: float = 0.5, timeout_s: float = 5.0
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidInputError(
                "the webhook URL must be an http(s) URL",
                hint="e.g. https://hooks.slack.com/services/<team>/<channel>/<token>",
            )
        self.url = url
        self.retries = retries
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self.name = redact(url)

    def send(self, notification: Notification) -> int:
        return self.send_payload(notification.payload())

    def send_payload(self, payload: dict[str, Any]) -> int:
        import httpx

        error = ""
        attempts = 0
        for attempt in range(1, self.retries + 2):
            attempts = attempt
            try:
                r = httpx.post(self.url, json=payload, timeout=self.timeout_s)
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            else:
                if r.status_code < 300:
                    return attempts
                error = f"HTTP {r.status_code}: {r.text[:200]}"
                if r.status_code < 500 and r.status_code != 429:
                    break  # the receiver refuses this payload: retrying cannot help
            if attempt <= self.retries:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
        raise DeliveryError(error, attempts)


def deliver(
    mon: MonitoringStore,
    changes: Sequence[AlertChange],
    sinks: Sequence[AlertSink],
    *,
    repeats: bool = False,
) -> list[Delivery]:
    """Notify every sink of every change worth notifying; record each outcome.

    `repeats=True` notifies repeats too: for alerts that stand for discrete events (each
    automatic rollback is news even while the previous one's alert is still open)."""
    records: list[Delivery] = []
    for change in changes:
        if not change.notify and not (repeats and change.transition == "repeated"):
            continue
        note = Notification(change.transition, change.alert)
        for sink in sinks:
            if isinstance(sink, StoreSink):
                continue  # the alert row itself; no delivery row needed
            try:
                attempts, status, error = sink.send(note), "delivered", None
            except DeliveryError as exc:
                attempts, status, error = exc.attempts, "dead_letter", str(exc)
            records.append(
                mon.record_delivery(
                    change.alert.id,
                    event=change.transition,
                    sink=sink.name,
                    status=status,
                    attempts=attempts,
                    error=error,
                    payload=note.payload(),
                )
            )
    return records


def model_sinks(mon: MonitoringStore, model: str) -> list[AlertSink]:
    """The sinks a model's alerts go through: the store, and every webhook named by one of
    the model's monitors (their saved configuration's `webhooks`)."""
    urls = {
        str(u)
        for m in mon.list_monitors()
        if m.model == model
        for u in (m.config.get("webhooks") or [])
    }
    return [StoreSink(), *(WebhookSink(u) for u in sorted(urls))]


def redeliver(mon: MonitoringStore, sinks: Sequence[AlertSink]) -> list[Delivery]:
    """Send every dead letter again through the sink of the same name."""
    by_name = {s.name: s for s in sinks}
    out: list[Delivery] = []
    for d in mon.list_deliveries(status="dead_letter"):
        sink = by_name.get(d.sink)
        if sink is None:
            continue
        try:
            n, status, error = sink.send_payload(d.payload), "delivered", None
        except DeliveryError as exc:
            n, status, error = exc.attempts, "dead_letter", str(exc)
        out.append(mon.update_delivery(d.id, status=status, attempts=d.attempts + n, error=error))
    return out


__all__ = [
    "AlertSink",
    "DeliveryError",
    "Notification",
    "StoreSink",
    "WebhookSink",
    "deliver",
    "model_sinks",
    "redact",
    "redeliver",
]
