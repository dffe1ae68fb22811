"""REST paths renamed for one vocabulary (docs/vocabulary.md §10, §11): the new path serves the
operation and the remote client uses it; last release's path answers the same for one more
release, with `Deprecation` (RFC 9745) and a `Link` to the new path, and is marked deprecated
in the OpenAPI document. Last release's argument names (`order_by`, `to_version`) are read
too, so last release's clients keep working."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from loopline.store import MAX_RUNS_PAGE, Lineage, open_metadata_store, reset_store_cache
from loopline.store.operations import DEPRECATED_AT, MOVED_FROM
from tests._team_server import TeamServer

MODEL_BYTES = b'{"format": "loopline-model/1", "serialization": "skops"}'
SHA = hashlib.sha256(MODEL_BYTES).hexdigest()
ARTIFACT = "model/a b?#/MLmodel"  # slashes, a space, '?' and '#': all must survive
RULE = "all_null:amount/eur"  # a column signal's rule: a column name may hold '/'


def _fill(team: TeamServer) -> str:
    s = team.store
    run = s.create_run("e", None, {}, {}, Lineage())
    s.record_artifact(run.id, ARTIFACT, "model", SHA, len(MODEL_BYTES))
    for _ in range(2):
        s.create_version(
            "churn", run_id=run.id, artifact_path=ARTIFACT, sha256=SHA, flavor="sklearn",
            signature=None, metrics={}, git_commit=None, created_by="author", card={},
        )  # fmt: skip
    for v in (1, 2):
        s.move_alias("churn", "staging", v, actor="admin", action="promote")
    s.save_monitor(
        "models:/churn@staging", model="churn", window="1h", config={}, schedule=None, actor="a"
    )
    s.raise_alert(
        "churn", RULE, severity="warning", message="m", runbook="r", context={}, actor="a"
    )
    return run.id


def _same(old: httpx.Response, new: httpx.Response, successor: str) -> None:
    assert (old.status_code, new.status_code) == (200, 200), (old.text, new.text)
    assert old.json() == new.json()
    assert old.headers["deprecation"] == f"@{DEPRECATED_AT}"
    assert old.headers["link"] == f'<{successor}>; rel="successor-version"'
    assert "deprecation" not in new.headers


def test_old_paths_answer_like_the_new_ones_and_point_at_them(team: TeamServer) -> None:
    run_id = _fill(team)
    http = team.client("root")
    quoted = "model/a%20b%3F%23/MLmodel"
    new = http.get(f"/api/v1/runs/{run_id}/artifacts/{quoted}")
    assert new.status_code == 200 and new.json()["path"] == ARTIFACT
    old = http.get(f"/api/v1/runs/{run_id}/artifact", params={"path": ARTIFACT})
    link = f"/api/v1/runs/{run_id}/artifacts/model%2Fa%20b%3F%23%2FMLmodel"
    _same(old, new, link)

    new = http.get("/api/v1/models/churn/alias-moves", params={"alias": "staging"})
    assert [m["to_version"] for m in new.json()] == [1, 2]
    old = http.get("/api/v1/models/churn/alias-history", params={"alias": "staging"})
    _same(old, new, "/api/v1/models/churn/alias-moves?alias=staging")

    uri = "models:/churn@staging"
    new = http.get("/api/v1/monitors/by-uri", params={"uri": uri})
    assert new.json()["uri"] == uri
    old = http.get("/api/v1/monitor", params={"uri": uri})
    _same(old, new, "/api/v1/monitors/by-uri?uri=models%3A%2Fchurn%40staging")

    old = http.post(
        "/api/v1/alerts/resolve", json={"model": "churn", "rule": RULE, "message": "fixed"}
    )
    assert old.status_code == 200 and old.json()["alert"]["status"] == "resolved"
    assert old.headers["deprecation"] == f"@{DEPRECATED_AT}"
    assert old.headers["link"] == (
        '</api/v1/models/churn/alerts/all_null%3Aamount%2Feur/resolve>; rel="successor-version"'
    )
    team.store.raise_alert(
        "churn", RULE, severity="warning", message="m", runbook="r", context={}, actor="a"
    )
    new = http.post(f"/api/v1/models/churn/alerts/{RULE}/resolve", json={"message": "again"})
    assert new.status_code == 200 and new.json()["alert"]["status"] == "resolved"
    assert (
        http.post("/api/v1/models/churn/alerts/nope/resolve", json={"message": "x"}).json() is None
    )


def test_runs_running_is_the_runs_listing_filtered_by_status(team: TeamServer) -> None:
    """`GET /runs-running` (the store's `list_running()`, gone) answers every running run, as
    last release's clients expect, pointing at `GET /runs?status=running`."""
    running = _fill(team)
    ended = team.store.create_run("e", None, {}, {}, Lineage())
    team.store.finish_run(ended.id, "finished")
    http = team.client("root")
    new = http.get("/api/v1/runs", params={"status": "running", "limit": MAX_RUNS_PAGE})
    assert [r["id"] for r in new.json()] == [running]
    old = http.get("/api/v1/runs-running")
    _same(old, new, f"/api/v1/runs?status=running&limit={MAX_RUNS_PAGE}")
    # The path stands for the status: a status asked of it is not a filter.
    old = http.get("/api/v1/runs-running", params={"status": "finished", "experiment": "e"})
    assert [r["id"] for r in old.json()] == [running]
    assert old.headers["link"] == (
        f'</api/v1/runs?experiment=e&status=running&limit={MAX_RUNS_PAGE}>; rel="successor-version"'
    )


def test_last_releases_argument_names_still_reach_the_store(team: TeamServer) -> None:
    _fill(team)
    for auc in (0.3, 0.9):
        run = team.store.create_run("e", None, {}, {}, Lineage())
        team.store.log_metrics(run.id, [("auc", auc, 0, 1.0)])
    http = team.client("root")
    new = http.get("/api/v1/runs", params={"sort": "metric.auc desc", "limit": 2}).json()
    old = http.get("/api/v1/runs", params={"order_by": "metric.auc desc", "limit": 2}).json()
    assert [r["metrics"]["auc"] for r in old] == [r["metrics"]["auc"] for r in new] == [0.9, 0.3]
    back = http.post(
        "/api/v1/models/churn/aliases/staging/rollback", json={"to_version": 1, "reason": "old"}
    )
    assert back.status_code == 200, back.text
    assert (back.json()["from_version"], back.json()["to_version"]) == (2, 1)
    ahead = http.post(
        "/api/v1/models/churn/aliases/staging/rollback", json={"version": 2, "reason": None}
    )
    assert (ahead.json()["from_version"], ahead.json()["to_version"]) == (1, 2)


def test_the_openapi_document_marks_only_the_old_paths_deprecated(team: TeamServer) -> None:
    paths = httpx.get(f"{team.url}/openapi.json").json()["paths"]
    deprecated = {
        path.removeprefix("/api/v1")
        for path, verbs in paths.items()
        for op in verbs.values()
        if op.get("deprecated")
    }
    assert deprecated == set(MOVED_FROM.values())
    for path in (
        "/runs/{run_id}/artifacts/{path}",
        "/models/{model}/alias-moves",
        "/monitors/by-uri",
        "/models/{model}/alerts/{rule}/resolve",
        "/models/{model}",
    ):
        assert "/api/v1" + path in paths
    assert "/api/v1/models/{name}" not in paths
    assert [p["name"] for p in paths["/api/v1/models/{model}"]["get"]["parameters"]] == ["model"]
    listing = {p["name"]: p for p in paths["/api/v1/runs"]["get"]["parameters"]}
    assert listing["order_by"]["deprecated"] is True and "deprecated" not in listing["sort"]


def test_the_remote_client_uses_the_new_paths(
    team: TeamServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = _fill(team)
    monkeypatch.setenv("LOOPLINE_URL", team.url)
    monkeypatch.setenv("LOOPLINE_TOKEN", team.token("mo", "admin"))
    reset_store_cache()
    store = open_metadata_store()
    sent: list[str] = []
    http = store._client.http  # type: ignore[attr-defined]
    monkeypatch.setattr(
        http, "event_hooks", {"request": [lambda r: sent.append(r.url.raw_path.decode())]}
    )
    assert store.get_artifact(run_id, ARTIFACT).sha256 == SHA
    assert [m.to_version for m in store.alias_history("churn", "staging")] == [1, 2]
    assert store.get_monitor("models:/churn@staging").model == "churn"
    change = store.resolve_alert("churn", RULE, actor="ignored", message="ok")
    assert change is not None and change.alert.status == "resolved"
    assert [r.id for r in store.list_runs(status="running", limit=MAX_RUNS_PAGE)] == [run_id]
    assert store.get_model("churn").latest_version == 2
    assert sent == [
        f"/api/v1/runs/{run_id}/artifacts/model%2Fa%20b%3F%23%2FMLmodel",
        "/api/v1/models/churn/alias-moves?alias=staging",
        "/api/v1/monitors/by-uri?uri=models%3A%2Fchurn%40staging",
        "/api/v1/models/churn/alerts/all_null%3Aamount%2Feur/resolve",
        f"/api/v1/runs?status=running&limit={MAX_RUNS_PAGE}&offset=0",
        "/api/v1/models/churn",
    ]
