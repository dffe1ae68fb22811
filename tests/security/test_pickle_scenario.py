"""The pickle payload scenario of issue 15, end to end on a live team server with the real
CLI: a data scientist logs a model whose pickle carries a `__reduce__` payload; the approver
runs `loopline models promote` with their own token.

Before: the candidate was unpickled in the approver's process before the gate ran, the
payload used the approver's LOOPLINE_TOKEN to approve version 2, and version 2 went to
production. Now nothing deserializes it there, and production's policy refuses a pickle.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import loopline as ll
from loopline.errors import InvalidInputError
from loopline.store import reset_store_cache
from tests._team_server import TeamServer
from tests.conftest import run_cli
from tests.security.model_payloads import Payload, Threshold


def _as(monkeypatch: pytest.MonkeyPatch, team: TeamServer, user: str, role: str) -> dict[str, str]:
    from loopline.store.remote import _whoami

    env = {"LOOPLINE_URL": team.url, "LOOPLINE_TOKEN": team.token(user, role)}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    _whoami.cache_clear()
    reset_store_cache()
    return env


def test_payload_can_neither_approve_nor_reach_production(
    team: TeamServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Finding: `loopline models promote loan 2 --policy policy.yaml` unpickles the candidate
    in the approver's process; the payload approves version 2 with the approver's token."""
    marker = tmp_path / "payload-ran.json"
    X = pd.DataFrame({"a": [0.5, -1.0, 2.0], "b": [1.0, 2.0, 3.0]})
    _as(monkeypatch, team, "dana", "data-scientist")
    with ll.start_run(experiment="loan") as run:
        safe = run.log_model(Threshold(), "safe", ll.infer_signature(X), unsafe_pickle=True)
        with pytest.raises(InvalidInputError, match="unsafe_pickle=True"):
            run.log_model(Payload(marker), "evil", ll.infer_signature(X))  # no opt-in: refused
        evil = run.log_model(Payload(marker), "evil", ll.infer_signature(X), unsafe_pickle=True)
    ll.register_model(safe, "loan")
    v2 = ll.register_model(evil, "loan")
    assert v2.card["unsafe_pickle"] is True  # the store read it from the manifest

    policy = tmp_path / "policy.yaml"
    policy.write_text("name: loan\nrules: []\napprovals: {count: 1, role: approver}\n")
    env = _as(monkeypatch, team, "paul", "approver")
    out = run_cli("models", "promote", "loan", "2", "--policy", str(policy), env=env)
    assert out.returncode == 1, out.stderr  # refused by the gate, not crashed
    assert "no unsafe pickle" in out.stdout and "approvals >= 1" in out.stdout
    assert not marker.exists(), "the payload ran in the approver's process"
    assert team.store.list_approvals("loan", 2) == []
    try:
        holder = team.store.get_version_by_alias("loan", "production").version
    except Exception:
        holder = None
    assert holder is None

    # Even approved by a second person, the production policy refuses the pickle...
    approve = run_cli("models", "approve", "loan", "2", env=env)
    assert approve.returncode == 0, approve.stderr
    again = run_cli("models", "promote", "loan", "2", env=env)
    assert again.returncode == 1 and "no unsafe pickle" in again.stdout
    # ...and so does a direct alias PUT.
    with team.client("paul", "approver") as client:
        r = client.put(
            "/api/v1/models/loan/aliases/production", json={"version": 2, "action": "promote"}
        )
    assert r.status_code == 409 and "failed its latest gate" in r.json()["error"]["message"]
    assert not marker.exists()


def test_no_route_writes_an_audit_event(team: TeamServer) -> None:
    """Finding: a data scientist can `POST /audit/events` with any action and target."""
    for role in ("data-scientist", "approver", "admin"):
        team.token(f"u-{role}", role)  # minting a token is itself an audit event: first
    before = len(team.store.list_audit_events())
    for role in ("data-scientist", "approver", "admin"):
        with team.client(f"u-{role}", role) as client:
            r = client.post(
                "/api/v1/audit/events",
                json={"action": "approve", "target_kind": "model_version", "target_id": "loan/2"},
            )
        assert r.status_code == 405, (role, r.status_code, r.text)
    assert len(team.store.list_audit_events()) == before


def test_approver_clears_and_ml_engineer_rolls_out(
    team: TeamServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Separation of duties for rollouts against production: an approver records the gate
    (`loopline models gate`), an ml-engineer starts the canary (`loopline deploy start`);
    neither alone could put an ungated challenger on production traffic."""
    from sklearn.linear_model import LogisticRegression

    X = pd.DataFrame({"a": [0.5, -1.0, 2.0, -0.3] * 10, "b": [1.0, 2.0, 3.0, 0.0] * 10})
    y = (X["a"] > 0).astype("int64")
    _as(monkeypatch, team, "dana", "data-scientist")
    for _ in range(2):
        with ll.start_run(experiment="loan") as run:
            info = run.log_model(LogisticRegression().fit(X, y), signature=ll.infer_signature(X))
        ll.register_model(info, "loan")
    paul = _as(monkeypatch, team, "paul", "approver")
    assert run_cli("models", "promote", "loan", "1", env=paul).returncode == 0
    erin = _as(monkeypatch, team, "erin", "ml-engineer")
    refused = run_cli("deployments", "start", "loan", "2", "--strategy", "canary", env=erin)
    assert refused.returncode == 2 and "loopline models gate loan 2" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    cleared = run_cli("models", "gate", "loan", "2", env=paul)
    assert cleared.returncode == 0, cleared.stdout + cleared.stderr
    started = run_cli("deployments", "start", "loan", "2", "--strategy", "canary", env=erin)
    assert started.returncode == 0, started.stderr
    assert team.store.active_deployment("loan").challenger_version == 2  # type: ignore[union-attr]
