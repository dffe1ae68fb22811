"""The role-by-action matrix, over HTTP and in the library layer.

Every role is tried on every sensitive action against a fresh server; what is allowed
must succeed (or fail for a reason other than permission), what is not must be 403
naming the roles that would be allowed.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from loopline.errors import PermissionDeniedError
from loopline.ops._roles import PERMISSIONS, ROLES, Principal, acting_as
from loopline.store import Lineage, open_artifact_store, open_metadata_store
from tests._team_server import TeamServer

MODEL_BYTES = b'{"format": "loopline-model/1", "serialization": "skops"}'
SHA = hashlib.sha256(MODEL_BYTES).hexdigest()


def _setup(team: TeamServer) -> str:
    """An experiment, a run, versions 1-3 of `m` by 'author', production 1 → 2, v3 gated."""
    s = team.store
    assert open_artifact_store().put_bytes(MODEL_BYTES)[0] == SHA  # versions name real blobs
    run = s.create_run("e", None, {}, {}, Lineage())
    for _ in range(3):
        s.create_version(
            "m",
            run_id=run.id,
            artifact_path="model",
            sha256=SHA,
            flavor="sklearn",
            signature=None,
            metrics={"auc": 0.8},
            git_commit=None,
            created_by="author",
            card={},
        )
    for v in (1, 2):  # production is protected: the store's gate (default policy) first
        d = s.record_gate_decision("m", v, alias="production", decided_by="admin")
        s.move_alias("m", "production", v, actor="admin", action="promote", gate_decision_id=d.id)
    # v3 is cleared to take production from v2 (a PUT or a rollout may then move it)
    assert s.record_gate_decision("m", 3, alias="production", decided_by="admin").passed
    return run.id


# action → (verb, path, JSON body)
REQUESTS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "read": ("GET", "/api/v1/runs", None),
    "runs.write": (
        "POST",
        "/api/v1/runs",
        {"experiment": "e", "name": None, "params": {}, "tags": {}, "lineage": {}},
    ),
    "models.register": (
        "POST",
        "/api/v1/models/m/versions",
        {
            "run_id": "RUN",
            "artifact_path": "model",
            "sha256": SHA,
            "flavor": "sklearn",
            "signature": None,
            "metrics": {},
            "git_commit": None,
            "card": {},
        },
    ),
    "alias.staging": (
        "PUT",
        "/api/v1/models/m/aliases/staging",
        {"version": 1, "action": "promote"},
    ),
    "alias.production": (
        "PUT",
        "/api/v1/models/m/aliases/production",
        {"version": 3, "action": "promote"},
    ),
    "rollback": (
        "POST",
        "/api/v1/models/m/aliases/production/rollback",
        {"version": None, "reason": "bad canary"},
    ),
    "approve": ("POST", "/api/v1/models/m/versions/2/approvals", {"comment": "ok"}),
    "deploy": (
        "POST",
        "/api/v1/models/m/deployments",
        {
            "alias": "production",
            "strategy": "canary",
            "champion_version": 2,
            "challenger_version": 3,
            "params": {},
            "challenger_percent": 10.0,
        },
    ),
    "monitors.write": (
        "PUT",
        "/api/v1/monitors",
        {"uri": "monitors:/m", "model": "m", "window": "1h", "config": {}, "schedule": None},
    ),
    "models.owner": ("PUT", "/api/v1/models/m/owner", {"team": "risk", "oncall": "@risk"}),
    "admin": (
        "POST",
        "/api/v1/tokens",
        {
            "token_hash": "f" * 64,
            "prefix": "ll_x",
            "user": "new",
            "role": "viewer",
            "team": None,
            "expires_at": None,
        },
    ),
}


@pytest.mark.parametrize("action", list(REQUESTS))
@pytest.mark.parametrize("role", ROLES)
def test_role_action_matrix_over_http(team: TeamServer, role: str, action: str) -> None:
    run_id = _setup(team)
    verb, path, body = REQUESTS[action]
    if body and body.get("run_id") == "RUN":
        body = {**body, "run_id": run_id}
    with team.client(f"user-{role}", role) as client:
        r = client.request(verb, path, json=body)
    if action in PERMISSIONS[role]:
        assert r.status_code < 400, (role, action, r.status_code, r.text)
    else:
        assert r.status_code == 403, (role, action, r.status_code, r.text)
        error = r.json()["error"]
        assert error["code"] == "forbidden" and role in error["message"]
        assert set(error["details"]["allowed"]) == {x for x in ROLES if action in PERMISSIONS[x]}


def test_actor_comes_from_the_token_not_the_request(team: TeamServer) -> None:
    _setup(team)
    with team.client("erin", "approver") as erin:
        r = erin.post(
            "/api/v1/models/m/versions/1/approvals",
            json={"comment": "fine", "approver": "mallory", "role": "admin"},
        )
    assert r.status_code == 200 and r.json()["approver"] == "erin"
    assert r.json()["role"] == "approver"
    last = team.store.list_audit_events()[-1]
    assert (last.actor, last.action) == ("erin", "approve")


@pytest.mark.parametrize("role", ROLES)
def test_the_same_rules_hold_in_the_library_layer(role: str) -> None:
    store = open_metadata_store()  # embedded: no HTTP at all
    run = store.create_run("e", None, {}, {}, Lineage())
    with acting_as(Principal("p", role)):
        allowed = "runs.write" in PERMISSIONS[role]
        if allowed:
            store.log_params(run.id, {"a": "1"})
        else:
            with pytest.raises(PermissionDeniedError, match=f"p \\({role}\\) may not runs.write"):
                store.log_params(run.id, {"a": "1"})
        store.get_run(run.id)  # every role reads
    assert store.get_run(run.id).params == ({"a": "1"} if allowed else {})


def test_the_documented_matrix_is_the_enforced_one() -> None:
    from pathlib import Path

    from loopline.ops._roles import permission_matrix

    doc = (Path(__file__).parents[2] / "docs" / "server.md").read_text()
    assert permission_matrix() in doc
