"""A real served model receives a shifted distribution: `monitor run` shows the drift, one alert
fires (not one per run), the webhook receives it once; injected latency shows in the SLO."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from loopline.cli import app
from loopline.errors import NotFoundError
from loopline.monitoring import MonitorConfig, run_monitor
from loopline.store import ModelVersion, open_metadata_store
from tests.conftest import run_cli
from tests.monitoring.conftest import Receiver

URI = "models:/churn@production"


def send(live: Any, frame: pd.DataFrame, batch: int = 50) -> None:
    expected = live.service.capture.written_rows + len(frame)
    for i in range(0, len(frame), batch):
        part = frame.iloc[i : i + batch]
        body = {"dataframe_split": {"columns": list(part.columns), "data": part.values.tolist()}}
        assert live.client.post("/invocations", json=body).status_code == 200
    deadline = time.monotonic() + 10
    while live.service.capture.written_rows < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert live.service.capture.written_rows >= expected, "capture did not flush"


def frame(shift: float, n: int = 400, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.normal(size=n) + shift, "b": rng.normal(size=n)})


def test_shifted_traffic_fires_one_alert_and_one_webhook(
    production: ModelVersion, live_server: Callable[..., Any], webhook: Receiver
) -> None:
    live = live_server()
    send(live, frame(shift=2.0))
    config = MonitorConfig(webhooks=[webhook.url], retrain={"windows": 1})

    first = run_monitor(URI, config=config)
    assert first.drifted() == {"a": "critical"}  # `b` is stable and is not flagged
    fired = [c for c in first.alerts if c.transition == "fired"]
    assert [c.alert.rule for c in fired] == ["data_drift"]
    alert = fired[0].alert
    assert "`a`" in alert.message and "promotion of churn v1 to @production" in alert.message
    assert "loopline monitors report" in alert.runbook
    assert first.retrain is not None and first.retrain_created
    assert len(webhook.received) == 1
    payload = webhook.received[0]
    assert "data_drift fired" in payload["text"] and payload["loopline"]["alert"]["rule"]

    second = run_monitor(URI)  # the saved configuration, same data: still drifting
    assert [c.transition for c in second.alerts if c.alert.rule == "data_drift"] == ["repeated"]
    assert len(webhook.received) == 1  # notified once, not on every run
    assert second.retrain is not None and not second.retrain_created  # the trigger fired once
    store = open_metadata_store()
    (open_alert,) = store.list_alerts(model="churn")
    assert open_alert.count == 2
    actions = [e.action for e in store.list_audit_events()]
    assert actions.count("alert.fired") == 1 and actions.count("retrain.requested") == 1


def test_injected_latency_shows_in_the_slo(
    production: ModelVersion, live_server: Callable[..., Any]
) -> None:
    live = live_server()
    send(live, frame(shift=0.0, n=66), batch=3)  # 22 requests: enough to judge a p95
    fast = run_monitor(URI, config=MonitorConfig(slo={"latency_p95_ms": 100}))
    assert fast.slo["windows"][-1]["objectives"]["latency_p95_ms"]["status"] == "met"

    original = live.service._predict  # the model's own work: where a slow model shows

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.15)
        return original(*args, **kwargs)

    live.service._predict = slow
    send(live, frame(shift=0.0, n=24, seed=2), batch=2)
    report = run_monitor(URI)
    objective = report.slo["windows"][-1]["objectives"]["latency_p95_ms"]
    assert objective["status"] == "violated" and objective["value"] > 100
    assert report.slo["budget"]["latency_p95_ms"]["burn"] > 1
    assert [c.alert.rule for c in report.alerts if c.transition == "fired"] == ["slo.latency"]
    assert not report.drifted()  # slow, not shifted


def test_monitor_cli_run_json_html_and_alerts(
    production: ModelVersion, live_server: Callable[..., Any], tmp_path: Any
) -> None:
    live = live_server()
    send(live, frame(shift=2.0))
    html = tmp_path / "drift.html"
    run = run_cli("monitor", "run", URI, "--json", "--html", str(html))
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["drifted"] == {"a": "critical"}
    page = html.read_text()
    assert "<svg" in page and "Drift by feature and window" in page and "<script" not in page
    runner = CliRunner()
    listed = runner.invoke(app, ["monitor", "alerts", "--json"])
    assert [a["rule"] for a in json.loads(listed.stdout)] == ["data_drift"]
    text = runner.invoke(app, ["monitor", "alerts", "--runbook"], env={"COLUMNS": "200"})
    assert "data_drift" in text.stdout and "what to do" in text.stdout
    slo = runner.invoke(app, ["monitor", "slo", URI, "--json"])
    assert json.loads(slo.stdout)["windows"][-1]["status"] in ("met", "violated")


def test_cli_mistakes_are_one_clear_line(production: ModelVersion) -> None:
    bad = run_cli("monitor", "run", URI, "--window", "1x")
    assert bad.returncode == 2 and "window" in bad.stderr and "Traceback" not in bad.stderr
    missing = CliRunner().invoke(app, ["monitor", "run", "models:/nope@production"])
    assert isinstance(missing.exception, NotFoundError) and "nope" in str(missing.exception)
