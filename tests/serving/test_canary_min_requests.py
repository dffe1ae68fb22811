"""A canary at low traffic: requests count from the step's start until `min_requests` is
reached (not per sliding window), so it advances eventually — or rolls back on what those
requests show; `deploy status` says what a step waits for; `--min-requests` is stored."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from loopline.cli import app
from loopline.serving import Slo, deploy
from loopline.store import ModelVersion, open_metadata_store
from tests.serving.broken_models import FailsOnSomeRows
from tests.serving.conftest import LiveServer
from tests.serving.test_traffic import register


def trickle(server: LiveServer, count: int, pause_s: float, row: dict[str, float]) -> int:
    """Send requests until `count` reached the challenger, pausing `pause_s` after each
    challenger request (so a sliding window of less than `pause_s` holds at most one)."""
    sent = i = 0
    while sent < count:
        i += 1
        r = server.client.post(
            "/invocations",
            json={"dataframe_records": [row]},
            headers={"x-loopline-route-key": f"k{i}"},
        )
        if r.headers.get("x-loopline-arm") == "challenger":
            sent += 1
            time.sleep(pause_s)
    return sent


def status(model: str = "churn") -> str:
    out = CliRunner().invoke(app, ["deploy", "status", model], env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    return out.stdout


def test_a_low_traffic_canary_advances_once_enough_requests_came_in(
    production: ModelVersion,
    live_server: Callable[..., LiveServer],
    train_version: Callable[..., ModelVersion],
) -> None:
    v2 = train_version()
    server = live_server()
    server.service.window_s = 0.2  # the arms' sliding window, as the SLO below says
    rollout = server.runtime.rollout
    rollout.progress_every_s = 0.0  # report every change (a server reports at most every 2 s)
    # Never 4 challenger requests in one 0.2 s window: judged per window, it waited forever.
    d = deploy(
        "churn",
        v2.version,
        steps=[50, 100],
        step_duration_s=0,
        slo=Slo(min_requests=4, window_s=0.2, max_p95_ms=5000),
    )
    rollout.sync()
    assert "waiting: 0 of 4 challenger requests since the step began" in status()
    for _ in range(3):
        trickle(server, 1, 0.25, {"a": 0.5, "b": 0.0})
        rollout.check()
    assert open_metadata_store().get_deployment(d.id).step == 0
    assert "waiting: 3 of 4 challenger requests since the step began" in status()
    trickle(server, 1, 0.25, {"a": 0.5, "b": 0.0})
    rollout.check()
    now = open_metadata_store().get_deployment(d.id)
    assert now.step == 1 and now.challenger_percent == 100.0
    rollout.sync()
    assert "waiting: 0 of 4 challenger requests since the step began" in status()  # a new step


def test_a_low_traffic_canary_is_judged_on_the_requests_since_the_step_began(
    production: ModelVersion,
    live_server: Callable[..., LiveServer],
    churn_like: tuple[pd.DataFrame, pd.Series],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOOPLINE_ALLOW_UNSAFE_PICKLE", "1")
    bad = register(FailsOnSomeRows, churn_like)
    open_metadata_store().set_alias_policy(
        "churn", "production", policy={"name": "pickles-ok", "allow_unsafe_pickle": True}, actor="t"
    )
    server = live_server()
    rollout = server.runtime.rollout
    d = deploy(
        "churn", bad, steps=[50, 100], step_duration_s=0, slo=Slo(min_requests=4, window_s=0.2)
    )
    rollout.sync()
    failing = {"a": 0.0, "b": 0.0}  # a = 0: the challenger raises on it
    trickle(server, 4, 0.25, failing)
    rollout.check()
    final = open_metadata_store().get_deployment(d.id)
    assert final.status == "rolled_back" and final.reason is not None
    assert "error rate 100.0%" in final.reason, final.reason


def test_min_requests_is_an_option_stored_with_the_deployment(
    production: ModelVersion, train_version: Callable[..., ModelVersion]
) -> None:
    v2 = train_version()
    runner = CliRunner()
    bad = runner.invoke(app, ["deploy", "start", "churn", str(v2.version), "--min-requests", "0"])
    assert bad.exit_code == 2
    out = runner.invoke(
        app, ["deploy", "start", "churn", str(v2.version), "--min-requests", "7", "--json"]
    )
    assert out.exit_code == 0, out.output
    d = open_metadata_store().active_deployment("churn")
    assert d is not None and d.params["slo"]["min_requests"] == 7
    text = status()
    assert "at 5%" in text and "step 1 of 3" in text, text
    assert "waiting: 0 of 7 challenger requests since the step began" in text, text
    assert "of 30 s at this step" in text, text


def test_status_json_carries_the_wait(
    production: ModelVersion, train_version: Callable[..., ModelVersion]
) -> None:
    import json

    v2 = train_version()
    deploy("churn", v2.version, slo=Slo(min_requests=9))
    out = CliRunner().invoke(app, ["deploy", "status", "churn", "--json"])
    body: dict[str, Any] = json.loads(out.stdout)
    assert body["waiting"]["requests"] == 0 and body["waiting"]["min_requests"] == 9


def test_the_cli_default_is_the_slo_default() -> None:
    import inspect

    from loopline.cli._deploy import start

    default = inspect.signature(start).parameters["min_requests"].default
    assert default == Slo().min_requests == 20
