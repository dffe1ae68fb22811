"""Serving reconciles with the registry: a swap that fails is retried with backoff, and
`/metrics` shows that the served version and the registry's alias disagree until it heals.

The failure is real: the target version's artifact file is removed from the artifact store
(and restored later), against a real store and a real uvicorn server started through
`build_app`, whose lifespan runs the reconcile loop."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from prometheus_client import generate_latest

import loopline as ll
from loopline.serving import build_app, build_service
from loopline.store import ModelVersion, open_metadata_store
from tests.serving.conftest import free_port

URI = "models:/churn@production"
BODY = {"dataframe_records": [{"a": 0.1, "b": 0.2}]}
MISMATCH = 'loopline_registry_version_mismatch{alias="production",model="churn"}'
REGISTRY = 'loopline_registry_version{alias="production",model="churn"}'
FAILED = 'loopline_model_swaps_total{outcome="failed"}'
OK = 'loopline_model_swaps_total{outcome="ok"}'


def value(text: str, series: str) -> float | None:
    m = re.search(re.escape(series) + r" (\S+)", text)
    return float(m.group(1)) if m else None


def blob_of(home: Path, version: int) -> Path:
    manifest = ll.load_model(f"models:/churn/{version}").manifest
    (digest,) = [f["sha256"] for f in manifest["files"].values()]
    return home / "artifacts" / "sha256" / digest[:2] / digest


def wait_for(cond: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


@pytest.fixture
def serve() -> Iterator[Callable[..., httpx.Client]]:
    """`build_app` under a real uvicorn (its lifespan starts the reconcile loop)."""
    running: list[tuple[uvicorn.Server, threading.Thread, httpx.Client]] = []

    def start(uri: str, **kwargs: float) -> httpx.Client:
        app = build_app(uri, capture=False, **kwargs)
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        assert wait_for(lambda: server.started), "uvicorn did not start"
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
        running.append((server, thread, client))
        return client

    yield start
    for server, thread, client in running:
        client.close()
        server.should_exit = True
        thread.join(5)


def test_failed_swap_is_retried_and_metrics_show_the_disagreement_until_it_heals(
    production: ModelVersion,
    train_version: Callable[..., ModelVersion],
    home: Path,
    serve: Callable[..., httpx.Client],
) -> None:
    v2 = train_version()
    ll.promote("churn", v2.version, "production")
    client = serve(URI, poll_s=0.05, retry_s=0.05, retry_max_s=0.2)

    def metrics() -> str:
        return client.get("/metrics").text

    assert client.post("/invocations", json=BODY).headers["x-loopline-model-version"] == "2"
    assert wait_for(lambda: value(metrics(), MISMATCH) == 0.0), metrics()
    assert value(metrics(), REGISTRY) == 2.0

    # v1's artifact becomes unreadable; then production is rolled back to it without
    # `--to` (the registry moves the alias without loading v1): the swap must fail.
    blob = blob_of(home, 1)
    saved = blob.read_bytes()
    blob.unlink()
    ll.rollback("churn", "production")
    assert wait_for(lambda: value(metrics(), MISMATCH) == 1.0), metrics()
    assert value(metrics(), REGISTRY) == 1.0
    # retried with backoff, not given up after the first failure
    assert wait_for(lambda: (value(metrics(), FAILED) or 0) >= 3), metrics()
    r = client.post("/invocations", json=BODY)
    assert r.status_code == 200 and r.headers["x-loopline-model-version"] == "2"  # still serving
    assert value(metrics(), MISMATCH) == 1.0  # and still saying it disagrees
    failed = [
        e for e in open_metadata_store().list_audit_events() if e.action == "serving.swap_failed"
    ]
    assert len(failed) == 1 and failed[0].target_id == "churn/1"  # recorded once, not per retry

    blob.write_bytes(saved)  # the cause is fixed: the next retry heals it
    assert wait_for(lambda: value(metrics(), MISMATCH) == 0.0), metrics()
    assert client.post("/invocations", json=BODY).headers["x-loopline-model-version"] == "1"
    assert value(metrics(), OK) == 1.0


def test_retries_back_off_exponentially_up_to_a_cap_and_reset_once_healed(
    production: ModelVersion, train_version: Callable[..., ModelVersion], home: Path
) -> None:
    runtime = build_service(URI, capture=False, poll_s=3600, retry_s=1.0, retry_max_s=4.0)
    (watcher,) = runtime.watchers  # driven by hand here, with an explicit clock

    def metrics() -> str:
        return generate_latest(runtime.service.metrics.registry).decode()

    v2 = train_version()
    ll.promote("churn", v2.version, "production")
    blob = blob_of(home, v2.version)
    saved = blob.read_bytes()
    blob.unlink()
    t = 1000.0
    attempts = []
    for now in (0.0, 0.5, 1.0, 2.9, 3.0, 6.9, 7.0, 10.9, 11.0):
        watcher.check_once(now=t + now)
        attempts.append(int(value(metrics(), FAILED) or 0))
    # tries at 0, +1, +2 (3.0), +4 (7.0), then capped at +4 (11.0)
    assert attempts == [1, 1, 2, 2, 3, 3, 4, 4, 5]
    assert watcher.failures == 5 and watcher.next_attempt_at == t + 15.0
    assert value(metrics(), MISMATCH) == 1.0

    blob.write_bytes(saved)
    watcher.check_once(now=t + 14.0)  # not yet due
    assert value(metrics(), MISMATCH) == 1.0
    watcher.check_once(now=t + 15.0)
    assert value(metrics(), MISMATCH) == 0.0 and value(metrics(), OK) == 1.0
    assert runtime.service.served().version.version == v2.version
    assert watcher.failures == 0
