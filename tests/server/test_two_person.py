"""Two-person approval end to end over HTTP: the Python API in remote mode, three people
with their own tokens, the server deciding who did what."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import loopline as ll
from loopline.errors import ConflictError, PermissionDeniedError
from loopline.ops import verify_audit
from loopline.registry import get_version
from loopline.store import ModelVersion, reset_store_cache
from tests._team_server import TeamServer


def _as(monkeypatch: pytest.MonkeyPatch, team: TeamServer, user: str, role: str) -> None:
    from loopline.store.remote import _whoami

    monkeypatch.setenv("LOOPLINE_URL", team.url)
    monkeypatch.setenv("LOOPLINE_TOKEN", team.token(user, role))
    _whoami.cache_clear()
    reset_store_cache()


def test_author_cannot_approve_and_a_second_person_can(
    team: TeamServer,
    monkeypatch: pytest.MonkeyPatch,
    train_version: Callable[..., ModelVersion],
) -> None:
    policy = ll.GatePolicy(approvals_count=1, approvals_role="approver")
    _as(monkeypatch, team, "dana", "data-scientist")
    v = train_version()  # trained and registered over HTTP
    assert v.created_by == "dana"
    with pytest.raises(PermissionDeniedError, match="may not approve"):
        ll.approve("churn", v.version)
    with pytest.raises(PermissionDeniedError, match=r"may not (alias\.production|policy\.write)"):
        ll.promote("churn", v.version, "production", policy=policy)

    # The author holds an approver token too: still refused — by the store, not the client.
    _as(monkeypatch, team, "dana", "approver")
    with pytest.raises(ConflictError, match="dana registered churn/1 and cannot approve"):
        ll.approve("churn", v.version)
    refused = ll.promote("churn", v.version, "production", policy=policy)
    assert not refused.promoted and "approval" in str(refused.decision.results).lower()

    _as(monkeypatch, team, "paul", "approver")
    ll.approve("churn", v.version, comment="reviewed the eval")
    result = ll.promote("churn", v.version, "production", policy=policy, reason="Q4 model")
    assert result.promoted and get_version("models:/churn@production").version == 1

    trail = [(e.actor, e.action) for e in team.store.list_audit_events()]
    assert ("dana", "register") in trail and ("paul", "approve") in trail
    assert ("paul", "promote") in trail
    assert verify_audit().ok  # the chain, read over HTTP, is intact
