"""Alert deduplication, escalation and resolution in the store; webhook delivery with retries
and a dead letter against a real local HTTP server; retrain requests kept to one pending."""

from __future__ import annotations

import threading

import pytest

from loopline.errors import ConflictError, InvalidInputError
from loopline.monitoring import (
    Notification,
    StoreSink,
    WebhookSink,
    deliver,
    monitoring_store,
    redeliver,
)
from loopline.store import MonitoringStore, open_metadata_store
from tests.monitoring.conftest import Receiver


@pytest.fixture
def mon() -> MonitoringStore:
    return monitoring_store(open_metadata_store())


def raise_(mon: MonitoringStore, severity: str = "warning", rule: str = "data_drift") -> str:
    change = mon.raise_alert(
        "churn", rule, severity=severity, message="m", runbook="r", context={}, actor="t"
    )
    return change.transition


def test_an_alert_fires_once_then_repeats_escalates_and_resolves(mon: MonitoringStore) -> None:
    assert [raise_(mon) for _ in range(3)] == ["fired", "repeated", "repeated"]
    assert raise_(mon, "critical") == "escalated"
    assert raise_(mon, "warning") == "repeated"  # calmer: no new notification
    assert raise_(mon, "critical") == "repeated"  # critical was already notified once
    (alert,) = mon.list_alerts()
    assert alert.count == 6 and alert.severity == "critical"
    change = mon.resolve_alert("churn", "data_drift", actor="t", message="ok")
    assert change is not None and change.transition == "resolved" and change.notify
    assert mon.resolve_alert("churn", "data_drift", actor="t", message="ok") is None
    assert mon.list_alerts() == []
    assert raise_(mon) == "fired"  # a new breach after resolution is a new alert
    assert len(mon.list_alerts(status=None)) == 2
    actions = [e.action for e in open_metadata_store().list_audit_events()]
    assert actions == ["alert.fired", "alert.escalated", "alert.resolved", "alert.fired"]


def test_rules_and_models_are_deduplicated_separately(mon: MonitoringStore) -> None:
    assert raise_(mon, rule="data_drift") == "fired"
    assert raise_(mon, rule="slo.latency") == "fired"
    assert len(mon.list_alerts()) == 2
    with pytest.raises(InvalidInputError, match="severity"):
        raise_(mon, severity="loud")


def test_concurrent_monitors_open_one_alert(mon: MonitoringStore) -> None:
    results: list[str] = []
    barrier = threading.Barrier(6)

    def worker() -> None:
        barrier.wait()
        results.append(raise_(mon))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["fired"] + ["repeated"] * 5
    (alert,) = mon.list_alerts()
    assert alert.count == 6


def test_webhook_retries_then_dead_letters_then_redelivers(
    mon: MonitoringStore, webhook: Receiver
) -> None:
    sink = WebhookSink(webhook.url, retries=2, backoff_s=0.01)
    assert "secret" not in sink.name and sink.name.startswith("webhook:http://127.0.0.1")
    change = mon.raise_alert(
        "churn", "data_drift", severity="critical", message="PSI on `a` crossed 0.2",
        runbook="1. look", context={}, actor="t",
    )  # fmt: skip
    webhook.fail_next = 1  # one failure, then the retry succeeds
    (ok,) = deliver(mon, [change], [StoreSink(), sink])
    assert ok.status == "delivered" and ok.attempts == 2 and len(webhook.received) == 1
    assert webhook.received[0]["blocks"][1]["text"]["text"].endswith("1. look")

    webhook.fail_next = 100  # the receiver is down for good
    (dead,) = deliver(mon, [change], [sink])
    assert dead.status == "dead_letter" and dead.attempts == 3 and "500" in (dead.error or "")
    assert dead.payload["loopline"]["alert"]["rule"] == "data_drift"  # nothing lost
    assert mon.list_deliveries(status="dead_letter") == [dead]

    webhook.fail_next = 0  # back up: the dead letter goes out
    (again,) = redeliver(mon, [sink])
    assert again.status == "delivered" and again.attempts == 4
    assert len(webhook.received) == 2 and mon.list_deliveries(status="dead_letter") == []


def test_an_unreachable_webhook_is_a_dead_letter(mon: MonitoringStore) -> None:
    change = mon.raise_alert(
        "churn", "x", severity="warning", message="m", runbook="r", context={}, actor="t"
    )
    sink = WebhookSink("http://127.0.0.1:9/hook", retries=1, backoff_s=0.01, timeout_s=1)
    (dead,) = deliver(mon, [change], [sink])
    assert dead.status == "dead_letter" and dead.attempts == 2
    with pytest.raises(InvalidInputError):
        WebhookSink("ftp://example")


def test_repeats_are_not_delivered(mon: MonitoringStore, webhook: Receiver) -> None:
    first = mon.raise_alert(
        "churn", "x", severity="warning", message="m", runbook="r", context={}, actor="t"
    )
    second = mon.raise_alert(
        "churn", "x", severity="warning", message="m", runbook="r", context={}, actor="t"
    )
    deliver(mon, [first, second], [WebhookSink(webhook.url)])
    assert len(webhook.received) == 1
    note = Notification("fired", first.alert).payload()
    assert note["text"].startswith(":warning: [WARNING] churn: x fired")


def test_one_pending_retrain_request_per_model(mon: MonitoringStore) -> None:
    first, created = mon.request_retrain(
        "churn", 3, reason="psi", context={}, alert_id=None, actor="t"
    )
    again, created_again = mon.request_retrain(
        "churn", 3, reason="psi", context={}, alert_id=None, actor="t"
    )
    assert created and not created_again and again.id == first.id
    mon.update_retrain_request(first.id, status="started", actor="runner")
    done = mon.update_retrain_request(first.id, status="done", actor="runner")
    assert done.status == "done"
    with pytest.raises(ConflictError):
        mon.update_retrain_request(first.id, status="started", actor="runner")
    _, created_next = mon.request_retrain(
        "churn", 4, reason="psi", context={}, alert_id=None, actor="t"
    )
    assert created_next  # the previous request finished: a new trigger may ask again
    actions = [e.action for e in open_metadata_store().list_audit_events()]
    assert actions.count("retrain.requested") == 2 and "retrain.done" in actions
