"""The CLI as a user runs it: tokens, audit verify against tampering, remote mode."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from loopline.config import load_settings
from loopline.store import Lineage, open_metadata_store
from tests._team_server import TeamServer
from tests.conftest import run_cli


def test_tokens_create_list_revoke(home: Path) -> None:
    made = run_cli("tokens", "create", "--user", "ana", "--role", "approver", "--json")
    assert made.returncode == 0, made.stderr
    token = json.loads(made.stdout)
    assert token["token"].startswith("ll_") and token["role"] == "approver"
    listed = run_cli("tokens", "list", "--json")
    rows = json.loads(listed.stdout)
    assert [r["user"] for r in rows] == ["ana"] and token["token"] not in listed.stdout
    assert run_cli("tokens", "revoke", str(token["id"])).returncode == 0
    assert json.loads(run_cli("tokens", "list", "--json").stdout)[0]["revoked_at"] is not None
    bad = run_cli("tokens", "create", "--user", "bo", "--role", "superuser")
    assert bad.returncode == 2 and "unknown role 'superuser'" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def _events(n: int) -> None:
    store = open_metadata_store()  # any audited operation: each new alert is one event
    for i in range(n):
        store.raise_alert(
            "m", f"rule{i}", severity="warning", message="", runbook="", context={}, actor="ci"
        )


def test_audit_verify_names_an_edited_row_and_a_truncated_tail(home: Path) -> None:
    _events(5)
    assert run_cli("audit", "export", "-o", "before.jsonl").returncode == 0
    ok = run_cli("audit", "verify", "--against", "before.jsonl")
    assert ok.returncode == 0 and "5 events verified" in ok.stdout
    engine = sa.create_engine(load_settings().db_url)
    with engine.begin() as conn:  # an admin with database access deletes the newest event
        conn.execute(sa.text("DELETE FROM audit_events WHERE id = 5"))
    assert run_cli("audit", "verify").returncode == 0  # the chain alone cannot see it
    cut = run_cli("audit", "verify", "--against", "before.jsonl")
    assert cut.returncode == 1 and "event 5 of the export is missing" in cut.stdout
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_events SET reason = 'nothing' WHERE id = 3"))
    edited = run_cli("audit", "verify", "--json")
    assert edited.returncode == 1
    assert json.loads(edited.stdout)["first_bad_id"] == 3
    engine.dispose()


def test_the_cli_talks_to_the_server_in_remote_mode(team: TeamServer) -> None:
    run = team.store.create_run("remote-exp", None, {}, {"team": "fraud"}, Lineage())
    env = {"LOOPLINE_URL": team.url, "LOOPLINE_TOKEN": team.token("vic", "viewer")}
    p = run_cli("runs", "list", "--tag", "team=fraud", "--json", env=env)
    assert p.returncode == 0, p.stderr
    assert [r["id"] for r in json.loads(p.stdout)] == [run.id]
    denied = run_cli("tokens", "create", "--user", "x", "--role", "admin", env=env)
    assert denied.returncode == 2 and "vic (viewer) may not admin" in denied.stderr
    assert "Traceback" not in denied.stderr
    wrong = run_cli("runs", "list", env={**env, "LOOPLINE_TOKEN": "ll_wrong"})
    assert wrong.returncode == 2 and "unknown API token" in wrong.stderr
