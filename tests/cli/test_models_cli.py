from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from loopline.store import ModelVersion, open_metadata_store
from tests.conftest import run_cli


def test_promote_refusal_rollback_lineage_and_audit(
    train_version: Callable[..., ModelVersion],
    holdout: Path,
    tmp_path: Path,
) -> None:
    gate = tmp_path / "gate.yaml"
    gate.write_text("name: prod\nrules:\n  - auc >= 0.7\n  - auc >= champion.auc - 0.01\n")
    train_version()
    train_version(corrupt=True)
    common = ["--policy", str(gate), "--data", str(holdout), "--target", "label"]

    ok = run_cli("models", "promote", "churn", "1", "production", *common)
    assert ok.returncode == 0, ok.stderr
    assert "promoted churn/1 to @production" in ok.stdout

    refused = run_cli("models", "promote", "churn", "2", "production", *common, "--json")
    assert refused.returncode == 1
    rules = {r["rule"]: r for r in json.loads(refused.stdout)["rules"]}
    assert rules["auc >= 0.7"]["verdict"] == "fail" and rules["auc >= 0.7"]["value"] < 0.7

    listed = json.loads(run_cli("models", "list", "--json").stdout)
    assert listed[0]["aliases"] == {"production": 1}

    train_version()
    assert run_cli("models", "promote", "churn", "3", *common).returncode == 0
    back = run_cli("models", "rollback", "churn", "--alias", "production", "--json")
    assert back.returncode == 0, back.stderr
    move = json.loads(back.stdout)
    assert (move["from_version"], move["to_version"]) == (3, 1) and move["seconds"] < 1.0

    lineage = json.loads(run_cli("models", "lineage", "models:/churn@production", "--json").stdout)
    assert lineage["version"] == 1 and lineage["datasets"][0]["name"] == "train"
    history = json.loads(run_cli("models", "history", "churn", "--json").stdout)
    assert [h["action"] for h in history] == ["promote", "promote", "rollback"]

    assert run_cli("audit", "verify").returncode == 0
    engine = sa.create_engine(open_metadata_store().url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_events SET reason = 'edited' WHERE id = 3"))
    engine.dispose()
    broken = run_cli("audit", "verify")
    assert broken.returncode == 1 and "event 3" in broken.stdout
    exported = run_cli("audit", "export").stdout.strip().splitlines()
    assert len(exported) == len(open_metadata_store().list_audit_events())


def test_models_errors_are_one_line(train_version: Callable[..., ModelVersion]) -> None:
    train_version()
    for args in (
        ("models", "promote", "churn", "9"),
        ("models", "promote", "churn", "1", "Prod!"),
        ("models", "rollback", "churn"),
        ("models", "lineage", "churn@production"),
        ("models", "show", "nope"),
        ("models", "register", "runs:/abcd1234/model", "x"),
    ):
        p = run_cli(*args)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert p.stderr.startswith("error:") and len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_deploy_commands(train_version: Callable[..., ModelVersion]) -> None:
    import loopline as ll

    train_version()
    train_version()
    ll.promote("churn", 1, "production")
    started = run_cli("deploy", "start", "churn", "2", "--strategy", "blue_green", "--json")
    assert started.returncode == 0, started.stderr
    assert json.loads(started.stdout)["params"]["live"] == "blue"
    again = run_cli("deploy", "start", "churn", "2")
    assert again.returncode == 2 and "already has an active deployment" in again.stderr
    assert (
        json.loads(run_cli("deploy", "switch", "churn", "--json").stdout)["params"]["live"]
        == "green"
    )
    assert "stopped" in run_cli("deploy", "stop", "churn").stdout
    assert "no active deployment" in run_cli("deploy", "status", "churn").stdout
    bad = run_cli("deploy", "start", "churn", "2", "--steps", "50,20")
    assert bad.returncode == 2 and "must rise" in bad.stderr
    listed = json.loads(run_cli("deploy", "list", "churn", "--json").stdout)
    assert [d["status"] for d in listed] == ["stopped"]
