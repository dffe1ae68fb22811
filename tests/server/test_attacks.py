"""Bad input and attacks on the API: a clear 4xx with a JSON body, and no effect."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from loopline.store import Lineage
from tests._team_server import TeamServer, start_team_server


def _run(team: TeamServer) -> str:
    return team.store.create_run("e", None, {}, {}, Lineage()).id


@pytest.mark.parametrize("path", ["../../etc/passwd", "/etc/passwd", "a/../../b", "a\\..\\b"])
def test_artifact_paths_cannot_escape_the_run(team: TeamServer, path: str) -> None:
    run_id = _run(team)
    with team.client("ds", "data-scientist") as c:
        r = c.post(
            f"/api/v1/runs/{run_id}/artifacts",
            json={"path": path, "kind": "file", "sha256": "0" * 64, "size": 1, "meta": None},
        )
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_input"
        assert c.get(f"/api/v1/runs/{run_id}/artifacts").json() == []
        blob = c.get("/api/v1/artifacts/..%2F..%2Fetc%2Fpasswd")
        assert blob.status_code in (404, 422) and "error" in blob.json()


def test_upload_that_does_not_match_its_address_leaves_nothing(team: TeamServer) -> None:
    data = b"model bytes" * 1000
    digest = hashlib.sha256(data).hexdigest()
    with team.client("ds", "data-scientist") as c:
        r = c.put(f"/api/v1/artifacts/{digest}", content=data[:-1])
        assert r.status_code == 422 and "truncated or altered" in r.json()["error"]["message"]
        assert c.head(f"/api/v1/artifacts/{digest}").status_code == 404
        assert c.put(f"/api/v1/artifacts/{digest}", content=data).status_code == 201
        assert c.get(f"/api/v1/artifacts/{digest}").content == data


def test_oversize_bodies_are_refused_before_they_are_stored(home: object) -> None:
    team = start_team_server(max_request_mb=0.01, max_artifact_mb=0.05)
    try:
        run_id = _run(team)
        with team.client("ds", "data-scientist") as c:
            big = {"params": {f"k{i}": "x" * 100 for i in range(200)}}
            r = c.post(f"/api/v1/runs/{run_id}/params", json=big)
            assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
            blob = b"x" * 100_000
            digest = hashlib.sha256(blob).hexdigest()

            def chunks() -> object:  # no Content-Length: the limit must count while streaming
                for i in range(0, len(blob), 8192):
                    yield blob[i : i + 8192]

            r = c.put(f"/api/v1/artifacts/{digest}", content=chunks())  # type: ignore[arg-type]
            assert r.status_code == 413
            assert c.head(f"/api/v1/artifacts/{digest}").status_code == 404
        assert team.store.get_run(run_id).params == {}
    finally:
        team.stop()


def test_malformed_json_and_wrong_types_are_422(team: TeamServer) -> None:
    run_id = _run(team)
    with team.client("ds", "data-scientist") as c:
        r = c.post(
            f"/api/v1/runs/{run_id}/params",
            content=b"{not json",
            headers={"Content-Type": "application/json"},
        )
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_input"
        r = c.post(f"/api/v1/runs/{run_id}/metrics", json={"points": [["auc", "high", 0, 1.0]]})
        assert r.status_code == 422 and "points" in r.json()["error"]["message"]
    assert team.store.metric_history(run_id) == []


@pytest.mark.parametrize(
    "evil",
    ["x' OR '1'='1", "e; DROP TABLE runs; --", "team=x' UNION SELECT token_hash FROM api_tokens--"],
)
def test_sql_looking_filters_are_data(team: TeamServer, evil: str) -> None:
    run_id = _run(team)
    team.store.set_tags(run_id, {"team": "fraud"})
    with team.client("v", "viewer") as c:
        r = c.get("/api/v1/runs", params={"experiment": evil})
        assert r.status_code == 404  # no experiment of that name; nothing executed
        r = c.get("/api/v1/runs", params={"tag": f"team={evil}"})
        assert r.status_code == 200 and r.json() == []
        r = c.get("/api/v1/runs", params={"sort": evil})
        assert r.status_code == 422
        ok = c.get("/api/v1/runs", params={"tag": "team=fraud"}).json()
        assert [x["id"] for x in ok] == [run_id]  # the table is still there


def test_rate_limit_answers_429_with_retry_after(home: object) -> None:
    team = start_team_server(rate_limit_per_s=1.0, rate_limit_burst=3)
    try:
        with team.client("v", "viewer") as c:
            codes = [c.get("/api/v1/runs").status_code for _ in range(5)]
            assert codes[:3] == [200, 200, 200] and codes[-1] == 429
            r = c.get("/api/v1/runs")
            assert r.status_code == 429 and float(r.headers["retry-after"]) > 0
            assert r.json()["error"]["code"] == "rate_limited"
    finally:
        team.stop()


def test_listing_pages_filters_and_sorts(team: TeamServer) -> None:
    ids = []
    for i in range(5):
        run_id = _run(team)
        team.store.log_metrics(run_id, [("auc", 0.5 + i / 10, 0, 0.0)])
        team.store.set_tags(run_id, {"parity": "even" if i % 2 == 0 else "odd"})
        ids.append(run_id)
    with team.client("v", "viewer") as c:
        best = c.get("/api/v1/runs", params={"sort": "metric.auc desc", "limit": 2}).json()
        assert [r["id"] for r in best] == [ids[4], ids[3]]
        page2 = c.get(
            "/api/v1/runs", params={"sort": "metric.auc desc", "limit": 2, "offset": 2}
        ).json()
        assert [r["id"] for r in page2] == [ids[2], ids[1]]
        even = c.get("/api/v1/runs", params={"tag": "parity=even", "sort": "metric.auc asc"})
        assert [r["id"] for r in even.json()] == [ids[0], ids[2], ids[4]]
        assert c.get("/api/v1/runs", params={"limit": 0}).status_code == 422


def test_unreachable_server_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from loopline.errors import StoreUnavailableError
    from loopline.store import open_metadata_store, reset_store_cache

    monkeypatch.setenv("LOOPLINE_URL", "http://127.0.0.1:9")
    reset_store_cache()
    with pytest.raises(StoreUnavailableError, match="cannot reach the Loopline server"):
        open_metadata_store().list_experiments()
    assert isinstance(httpx.Client, type)
