"""Traffic policies against a live server: canary with auto-rollback, shadow, blue-green, A/B."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import loopline as ll
from loopline.serving import Slo, deploy, finish, switch
from loopline.store import ModelVersion, open_metadata_store
from tests.serving.broken_models import FailsOnSomeRows, Slow
from tests.serving.conftest import LiveServer


def register(wrapper: Callable[[Any], Any], churn_like: tuple[pd.DataFrame, pd.Series]) -> int:
    X, y = churn_like
    features = X[["a", "b"]].iloc[:600]
    inner = LogisticRegression().fit(features, y.iloc[:600])
    with ll.start_run(experiment="churn") as run:
        # The wrappers are classes of the test's own: a pickle, logged with the opt-in.
        info = run.log_model(
            wrapper(inner), signature=ll.infer_signature(features, y), unsafe_pickle=True
        )
    return ll.register_model(info, "churn").version


def load(server: LiveServer, stop: threading.Event, out: list[tuple[int, str]]) -> None:
    rng = random.Random()
    while not stop.is_set():
        row = {"a": rng.uniform(-2, 2), "b": rng.uniform(-2, 2)}
        r = server.client.post(
            "/invocations",
            json={"dataframe_records": [row]},
            headers={"x-loopline-route-key": str(rng.random())},
        )
        out.append((r.status_code, r.headers.get("x-loopline-arm", "?")))


@pytest.mark.parametrize("wrapper", [FailsOnSomeRows, Slow], ids=["errors", "latency"])
def test_broken_canary_is_rolled_back_within_10s_under_load(
    production: ModelVersion,
    live_server: Callable[..., LiveServer],
    churn_like: tuple[pd.DataFrame, pd.Series],
    wrapper: Callable[[Any], Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The server loads the opted-in pickle only because it is allowed to; it then runs in a
    # credential-free child process behind the same LoadedModel interface.
    monkeypatch.setenv("LOOPLINE_ALLOW_UNSAFE_PICKLE", "1")
    bad = register(wrapper, churn_like)
    # ...and production's policy allows a pickle (the built-in default refuses one).
    open_metadata_store().set_alias_policy(
        "churn", "production", policy={"name": "pickles-ok", "allow_unsafe_pickle": True}, actor="t"
    )
    server = live_server()
    server.runtime.rollout.poll_s = 0.2
    server.runtime.rollout.start()
    results: list[tuple[int, str]] = []
    stop = threading.Event()
    threads = [threading.Thread(target=load, args=(server, stop, results)) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        d = deploy(
            "churn",
            bad,
            strategy="canary",
            steps=[30, 100],
            step_duration_s=60,
            slo=Slo(min_requests=10, window_s=5),
        )
        t0 = time.monotonic()
        while time.monotonic() - t0 < 10:
            if open_metadata_store().get_deployment(d.id).status != "active":
                break
            time.sleep(0.05)
        elapsed = time.monotonic() - t0
        time.sleep(0.5)
        after = len(results)
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join()
        server.runtime.rollout.stop()
    final = open_metadata_store().get_deployment(d.id)
    assert final.status == "rolled_back" and elapsed < 10, (final, elapsed)
    assert final.reason and ("error rate" in final.reason or "p95" in final.reason)
    champion = [code for code, arm in results if arm == "champion"]
    assert champion and set(champion) == {200}  # nobody routed to the champion failed
    assert {arm for _, arm in results[after:]} == {"champion"}  # all traffic back
    assert all(code in (200, 500) for code, _ in results)  # every request was answered
    actions = [e.action for e in open_metadata_store().list_audit_events()]
    assert "deploy.rollback" in actions and "alert.canary_rolled_back" in actions
    assert ll.load_model("models:/churn@production").sha256 == production.sha256


def test_healthy_canary_steps_up_and_promotes(
    production: ModelVersion,
    live_server: Callable[..., LiveServer],
    train_version: Callable[..., ModelVersion],
) -> None:
    v2 = train_version()
    server = live_server()
    rollout = server.runtime.rollout
    d = deploy(
        "churn",
        v2.version,
        steps=[50, 100],
        step_duration_s=0,
        slo=Slo(min_requests=5, max_p95_ms=5000),
    )
    for expected in (50.0, 100.0):
        rollout.sync()
        assert rollout.deployment is not None
        assert rollout.deployment.challenger_percent == expected
        for i in range(40):
            server.client.post(
                "/invocations",
                json={"dataframe_records": [{"a": 0.5, "b": 0}]},
                headers={"x-loopline-route-key": f"k{i}"},
            )
        rollout.check()
    assert open_metadata_store().get_deployment(d.id).status == "completed"
    assert ll.lineage("models:/churn@production")["version"] == v2.version


def test_shadow_answers_from_champion_and_captures_the_challenger(
    production: ModelVersion,
    live_server: Callable[..., LiveServer],
    train_version: Callable[..., ModelVersion],
) -> None:
    v2 = train_version()
    server = live_server()
    deploy("churn", v2.version, strategy="shadow", fraction=1.0)
    server.runtime.rollout.sync()
    for i in range(10):
        r = server.client.post("/invocations", json={"dataframe_records": [{"a": i, "b": 1}]})
        assert r.headers["x-loopline-model-version"] == "1"
    deadline = time.monotonic() + 5
    while server.service.arm_stats("shadow").window().requests < 10:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    finish("churn", complete=False)
    server.runtime.rollout.sync()
    assert server.service.router.get_params()["strategy"] == "single"


def test_blue_green_switches_and_switches_back(
    production: ModelVersion,
    live_server: Callable[..., LiveServer],
    train_version: Callable[..., ModelVersion],
) -> None:
    v2 = train_version()
    server = live_server()
    deploy("churn", v2.version, strategy="blue_green")
    body = {"dataframe_records": [{"a": 0.3, "b": 0.1}]}

    def served_version() -> str:
        server.runtime.rollout.sync()
        return server.client.post("/invocations", json=body).headers["x-loopline-model-version"]

    assert served_version() == "1"
    switch("churn")
    assert served_version() == str(v2.version)
    switch("churn")
    assert served_version() == "1"


def test_ab_split_is_sticky_per_key(
    production: ModelVersion,
    live_server: Callable[..., LiveServer],
    train_version: Callable[..., ModelVersion],
) -> None:
    v2 = train_version()
    server = live_server()
    deploy("churn", v2.version, strategy="ab", split=0.5)
    server.runtime.rollout.sync()
    body = {"dataframe_records": [{"a": 0.3, "b": 0.1}]}
    arms = {}
    for key in (f"user-{i}" for i in range(60)):
        seen = {
            server.client.post(
                "/invocations", json=body, headers={"x-loopline-route-key": key}
            ).headers["x-loopline-arm"]
            for _ in range(3)
        }
        assert len(seen) == 1  # the same user always lands in the same arm
        arms[key] = seen.pop()
    assert 15 < sum(a == "challenger" for a in arms.values()) < 45


def test_canary_verdict_is_pure_and_waits_for_enough_traffic() -> None:
    import numpy as np

    from loopline.serving import canary_violations
    from loopline.serving._health import Window

    slo = Slo(min_requests=20)
    calm = Window(100, 0, 10.0, np.linspace(0, 1, 300))
    assert canary_violations(Window(5, 5, 999.0, np.array([])), calm, slo) == []
    assert canary_violations(Window(100, 3, 10.0, np.array([])), calm, slo) == [
        "error rate 3.0% > 1.0%"
    ]
    shifted = Window(300, 0, 10.0, np.linspace(0.8, 1, 300))
    assert "PSI" in canary_violations(shifted, calm, slo)[0]
