"""An automatic canary rollback is an alert to humans: an alert row in the store, notified
through the same sinks as drift alerts (the model's monitors' webhooks included), against a
real uvicorn server and a real local webhook receiver. A later rollout that completes
resolves it."""

from __future__ import annotations

import time
from collections.abc import Callable

import pandas as pd
import pytest

from loopline.monitoring import MonitorConfig
from loopline.serving import Slo, deploy
from loopline.store import ModelVersion, MonitoringStore, WebhookSink, open_metadata_store
from tests.monitoring.conftest import Receiver, webhook
from tests.serving.broken_models import FailsOnSomeRows
from tests.serving.conftest import LiveServer
from tests.serving.test_traffic import register

__all__ = ["webhook"]

URI = "models:/churn@production"
FAILING_ROW = {"a": 0.0, "b": 0.5}  # FailsOnSomeRows raises on this row, the champion answers


def wait_for(cond: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def mon() -> MonitoringStore:
    store = open_metadata_store()
    assert isinstance(store, MonitoringStore)
    return store


def send(server: LiveServer, n: int) -> None:
    for i in range(n):
        server.client.post(
            "/invocations",
            json={"dataframe_records": [FAILING_ROW]},
            headers={"x-loopline-route-key": f"key-{i}"},
        )


@pytest.fixture
def broken_challenger(
    production: ModelVersion,
    churn_like: tuple[pd.DataFrame, pd.Series],
    monkeypatch: pytest.MonkeyPatch,
) -> int:
    monkeypatch.setenv("LOOPLINE_ALLOW_UNSAFE_PICKLE", "1")
    bad = register(FailsOnSomeRows, churn_like)
    open_metadata_store().set_alias_policy(
        "churn", "production", policy={"name": "pickles-ok", "allow_unsafe_pickle": True}, actor="t"
    )
    return bad


def test_automatic_rollback_raises_an_alert_and_posts_the_webhook(
    broken_challenger: int, live_server: Callable[..., LiveServer], webhook: Receiver
) -> None:
    # The model's monitor names a webhook: the rollback alert goes there like a drift alert.
    open_metadata_store().save_monitor(
        URI,
        model="churn",
        window="1d",
        config=MonitorConfig(webhooks=[webhook.url]).as_dict(),
        schedule=None,
        actor="t",
    )
    server = live_server()
    rollout = server.runtime.rollout
    d = deploy(
        "churn",
        broken_challenger,
        strategy="canary",
        steps=[50, 100],
        step_duration_s=60,
        slo=Slo(min_requests=5, window_s=30),
    )
    rollout.sync()
    send(server, 40)
    rollout.check()  # the controller's decision: the challenger broke the SLO

    assert open_metadata_store().get_deployment(d.id).status == "rolled_back"
    (alert,) = mon().list_alerts(model="churn")
    assert alert.rule == "canary_rolled_back" and alert.severity == "critical"
    assert alert.status == "open"
    assert f"v{broken_challenger}" in alert.message and "error rate" in alert.message
    assert alert.context["deployment"] == d.id and alert.context["challenger"] == 2
    assert "loopline deployments" in alert.runbook
    assert wait_for(lambda: len(webhook.received) == 1), webhook
    payload = webhook.received[0]
    assert "canary_rolled_back fired" in payload["text"]
    assert payload["loopline"]["alert"]["context"]["deployment"] == d.id
    assert wait_for(lambda: [x.status for x in mon().list_deliveries()] == ["delivered"])
    actions = [e.action for e in open_metadata_store().list_audit_events()]
    assert "alert.canary_rolled_back" in actions and "alert.fired" in actions
    # all traffic is back on the champion
    r = server.client.post("/invocations", json={"dataframe_records": [FAILING_ROW]})
    assert r.status_code == 200 and r.headers["x-loopline-arm"] == "champion"


def test_a_later_completed_rollout_resolves_the_rollback_alert(
    broken_challenger: int,
    live_server: Callable[..., LiveServer],
    train_version: Callable[..., ModelVersion],
    webhook: Receiver,
) -> None:
    server = live_server()
    rollout = server.runtime.rollout
    # Sinks can also be given to the serving process directly (no monitor configured).
    rollout.alert_sinks = [*rollout.alert_sinks, WebhookSink(webhook.url, retries=0)]
    deploy(
        "churn",
        broken_challenger,
        strategy="canary",
        steps=[50, 100],
        step_duration_s=60,
        slo=Slo(min_requests=5, window_s=30),
    )
    rollout.sync()
    send(server, 40)
    rollout.check()
    assert wait_for(lambda: len(webhook.received) == 1)

    good = train_version()
    d = deploy(
        "churn",
        good.version,
        strategy="canary",
        steps=[100],
        step_duration_s=0,
        slo=Slo(min_requests=5, max_p95_ms=5000),
    )
    rollout.sync()
    for i in range(20):
        server.client.post(
            "/invocations",
            json={"dataframe_records": [{"a": 0.3, "b": 0.1}]},
            headers={"x-loopline-route-key": f"k{i}"},
        )
    rollout.check()
    assert open_metadata_store().get_deployment(d.id).status == "completed"
    (alert,) = mon().list_alerts(model="churn", status=None)
    assert alert.status == "resolved"
    assert wait_for(lambda: len(webhook.received) == 2)
    assert "canary_rolled_back resolved" in webhook.received[1]["text"]
    assert open_metadata_store().get_version_by_alias("churn", "production").version == good.version
