from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import loopline as ll
from loopline.store import ModelVersion, open_metadata_store
from tests.serving.conftest import LiveServer

BODY = {"dataframe_records": [{"a": 0.1, "b": 0.2}]}


def test_alias_move_is_swapped_in_without_dropping_requests(
    production: ModelVersion,
    live_server: Callable[..., LiveServer],
    train_version: Callable[..., ModelVersion],
) -> None:
    server = live_server()
    (watcher,) = server.watchers
    v2 = train_version()
    statuses: list[int] = []
    versions: set[str] = set()
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            r = server.client.post("/invocations", json=BODY)
            statuses.append(r.status_code)
            versions.add(r.headers.get("x-loopline-model-version", "?"))

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    ll.promote("churn", v2.version, "production")
    watcher.check_once()
    ll.rollback("churn", "production")
    watcher.check_once()
    stop.set()
    for t in threads:
        t.join()
    assert statuses and set(statuses) == {200}  # every accepted request answered
    assert versions <= {"1", "2"}
    assert server.client.post("/invocations", json=BODY).headers["x-loopline-model-version"] == "1"
    assert 'loopline_model_swaps_total{outcome="ok"} 2.0' in server.client.get("/metrics").text


def test_failed_load_keeps_the_old_model_and_is_recorded(
    production: ModelVersion,
    live_server: Callable[..., LiveServer],
    train_version: Callable[..., ModelVersion],
    home: Path,
) -> None:
    server = live_server()
    (watcher,) = server.watchers
    v2 = train_version()
    ll.promote("churn", v2.version, "production")
    # Corrupt v2's model file after promotion: the server must refuse to swap it in.
    manifest = ll.load_model("models:/churn/2").manifest
    (digest,) = [f["sha256"] for f in manifest["files"].values()]
    blob = home / "artifacts" / "sha256" / digest[:2] / digest
    blob.write_bytes(blob.read_bytes()[:-10])
    watcher.check_once()
    r = server.client.post("/invocations", json=BODY)
    assert r.status_code == 200 and r.headers["x-loopline-model-version"] == "1"
    assert 'loopline_model_swaps_total{outcome="failed"} 1.0' in server.client.get("/metrics").text
    events = [
        e for e in open_metadata_store().list_audit_events() if e.action == "serving.swap_failed"
    ]
    assert len(events) == 1 and "corrupted" in events[0].after["error"]  # type: ignore[index]
    watcher.check_once()  # the same bad version is not retried on every poll
    assert (
        len(
            [
                e
                for e in open_metadata_store().list_audit_events()
                if e.action == "serving.swap_failed"
            ]
        )
        == 1
    )
