"""Authentication: no token, an unknown, expired or revoked one → 401 with a JSON body."""

from __future__ import annotations

import time

import sqlalchemy as sa

from tests._team_server import TeamServer


def test_health_needs_no_token_but_everything_else_does(team: TeamServer) -> None:
    with team.client() as anonymous:
        assert anonymous.get("/api/v1/health").json()["status"] == "ok"
        r = anonymous.get("/api/v1/runs")
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        assert r.json()["error"]["code"] == "unauthenticated"
        bad = anonymous.get("/api/v1/runs", headers={"Authorization": "Bearer ll_nope"})
        assert bad.status_code == 401 and "unknown API token" in bad.json()["error"]["message"]


def test_token_is_stored_hashed_and_identifies_its_user(team: TeamServer) -> None:
    secret = team.token("ana", "viewer", team="fraud")
    with team.client("ana", "viewer") as ana:
        assert ana.get("/api/v1/me").json() == {"name": "ana", "role": "viewer", "team": "fraud"}
    engine = sa.create_engine(team.settings.db_url)
    with engine.connect() as conn:
        stored = [tuple(r) for r in conn.execute(sa.text("SELECT * FROM api_tokens"))]
    engine.dispose()
    assert stored and all(secret not in str(row) for row in stored)


def test_revoked_and_expired_tokens_are_refused(team: TeamServer) -> None:
    with team.client("bo", "viewer") as bo:
        assert bo.get("/api/v1/runs").status_code == 200
        token = team.store.list_tokens("bo")[0]
        with team.client("root", "admin") as admin:
            assert admin.delete(f"/api/v1/tokens/{token.id}").status_code == 200
        r = bo.get("/api/v1/runs")
        assert r.status_code == 401 and "was revoked" in r.json()["error"]["message"]
    engine = sa.create_engine(team.settings.db_url)
    with team.client("cy", "viewer") as cy:
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE api_tokens SET expires_at = :t WHERE user = 'cy'"),
                {"t": time.time() - 1},
            )
        r = cy.get("/api/v1/runs")
        assert r.status_code == 401 and "has expired" in r.json()["error"]["message"]
    engine.dispose()
    events = [e.action for e in team.store.list_audit_events()]
    assert events.count("token.create") == 3 and events.count("token.revoke") == 1
