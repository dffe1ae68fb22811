from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import loopline as ll
from loopline.config import load_settings
from loopline.errors import ArtifactCorruptedError, ConflictError, InvalidInputError, NotFoundError
from loopline.ops import verify_audit
from loopline.registry import get_version, parse_model_uri
from loopline.store import ModelVersion, open_metadata_store

Train = Callable[..., ModelVersion]
GATE = "rules:\n  - auc >= 0.7\n  - auc >= champion.auc - 0.01\n"


@pytest.fixture
def gate(tmp_path: Path) -> Path:
    p = tmp_path / "gate.yaml"
    p.write_text(GATE)
    return p


def test_versions_count_up_and_record_where_they_came_from(train_version: Train) -> None:
    v1, v2 = train_version(), train_version()
    assert (v1.version, v2.version) == (1, 2)
    assert v1.flavor == "sklearn" and len(v1.sha256) == 64
    assert v1.signature and [c["name"] for c in v1.signature["inputs"]] == ["a", "b"]
    assert v1.card["training_data"][0]["name"] == "train"
    assert get_version("models:/churn/latest").version == 2
    # (a team server's log also holds the creation of the test's API token)
    actions = [e.action for e in open_metadata_store().list_audit_events()]
    assert [a for a in actions if not a.startswith("token.")] == ["register", "register"]


def test_promotion_gate_rejects_the_worse_model_with_reasons(
    train_version: Train, holdout: Path, gate: Path
) -> None:
    train_version()
    first = ll.promote("churn", 1, "production", policy=gate, data=holdout, target="label")
    assert first.promoted and first.champion is None
    train_version(corrupt=True)
    second = ll.promote("churn", 2, "production", policy=gate, data=holdout, target="label")
    assert not second.promoted and second.move is None
    assert {r.rule for r in second.decision.failures} == {
        "auc >= 0.7",
        "auc >= champion.auc - 0.01",
    }
    assert get_version("models:/churn@production").version == 1  # unchanged
    decisions = open_metadata_store().list_gate_decisions("churn", 2)
    assert len(decisions) == 1 and not decisions[0].passed  # the refusal is on the record
    evals = open_metadata_store().list_evaluations("churn", 1)
    assert evals and evals[-1].metrics["auc"] > 0.7 and "latency_p95_ms" in evals[-1].metrics


def test_rollback_goes_back_to_the_previous_holder(train_version: Train) -> None:
    for _ in range(3):
        v = train_version()
        assert ll.promote("churn", v.version, "production").promoted
    move, seconds = ll.rollback("churn", "production")
    assert (move.from_version, move.to_version, move.action) == (3, 2, "rollback")
    assert seconds < 1.0
    assert get_version("models:/churn@production").version == 2
    move, _ = ll.rollback("churn", "production", version=1, reason="incident 42")
    assert move.to_version == 1 and move.reason == "incident 42"
    assert verify_audit().ok


def test_rollback_without_previous_holder_is_refused(train_version: Train) -> None:
    train_version()
    ll.promote("churn", 1, "staging")
    with pytest.raises(ConflictError, match="no previous holder") as caught:
        ll.rollback("churn", "staging")
    assert caught.value.hint.startswith(  # an option that exists (it said --to VERSION)
        "promote another version instead: loopline models promote churn VERSION staging"
    )
    with pytest.raises(ConflictError, match="no alias 'production'"):
        ll.rollback("churn", "production")


def test_author_cannot_approve_own_version(
    train_version: Train, switch_user: Callable[..., None]
) -> None:
    switch_user("alice")
    train_version()
    with pytest.raises(ConflictError, match="alice registered churn/1 and cannot approve"):
        ll.approve("churn", 1)
    switch_user("bob", "approver")
    ll.approve("churn", 1, comment="looks good")
    with pytest.raises(ConflictError, match="already approved"):
        ll.approve("churn", 1)
    policy = ll.GatePolicy(approvals_count=1, approvals_role="approver")
    assert ll.promote("churn", 1, "production", policy=policy).promoted


def test_unapproved_version_is_refused_when_policy_requires_it(train_version: Train) -> None:
    train_version()
    result = ll.promote("churn", 1, "production", policy=ll.GatePolicy(approvals_count=1))
    assert not result.promoted and result.decision.failures[0].reason == "no approvals yet"


def test_corrupted_version_cannot_be_promoted_or_loaded(train_version: Train, home: Path) -> None:
    v = train_version()
    manifest = ll.load_model(v.uri).manifest
    ((digest, _),) = [(f["sha256"], f["size"]) for f in manifest["files"].values()]
    model_file = home / "artifacts" / "sha256" / digest[:2] / digest
    data = bytearray(model_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model_file.write_bytes(bytes(data))
    with pytest.raises(ArtifactCorruptedError):
        ll.promote("churn", 1, "production")
    with pytest.raises(ArtifactCorruptedError):
        ll.load_model("models:/churn/1")
    with pytest.raises(NotFoundError):
        get_version("models:/churn@production")  # nothing moved


def test_policy_with_unknown_metric_changes_nothing(train_version: Train) -> None:
    train_version()
    before = len(open_metadata_store().list_audit_events())
    with pytest.raises(InvalidInputError, match="metric 'aucc' is unknown"):
        ll.promote("churn", 1, "production", policy=ll.GatePolicy(rules=("aucc >= 0.8",)))
    assert len(open_metadata_store().list_audit_events()) == before
    assert open_metadata_store().list_gate_decisions("churn", 1) == []


@pytest.mark.parametrize("alias", ["Production", "prod uction", "1", "a/b", "x" * 65, ""])
def test_illegal_alias_is_refused(train_version: Train, alias: str) -> None:
    train_version()
    with pytest.raises(InvalidInputError, match="alias"):
        ll.promote("churn", 1, alias)


def test_lineage_answers_which_data_and_commit_made_production(train_version: Train) -> None:
    v = train_version()
    ll.promote("churn", v.version, "production", reason="first release")
    info = ll.lineage("models:/churn@production")
    run = open_metadata_store().get_run(v.run_id)
    assert info["run"]["id"] == run.id and info["code"]["commit"] == run.lineage.git_commit
    assert [d["name"] for d in info["datasets"]] == ["train"]
    assert (
        info["datasets"][0]["fingerprint"]
        == open_metadata_store().run_datasets(run.id)[0].dataset.fingerprint
    )
    assert info["alias_history"][0]["action"] == "promote"


def test_model_uris() -> None:
    assert parse_model_uri("models:/churn@production").alias == "production"
    assert parse_model_uri("models:/churn/3").version == 3
    for bad in ("models:/churn/0", "models:/churn/x", "models:/", "churn", "models:/a/b/c"):
        with pytest.raises(InvalidInputError, match=r"model URI|version"):
            parse_model_uri(bad)


@given(st.text(max_size=40))
def test_any_text_is_a_uri_or_a_clear_error(text: str) -> None:
    try:
        ref = parse_model_uri(text)
    except InvalidInputError as exc:
        assert "model URI" in str(exc) or "version" in str(exc)
    else:
        assert text.strip().startswith("models:/") and ref.name


def test_audit_verify_detects_edits_and_deletions(train_version: Train) -> None:
    import sqlalchemy as sa

    train_version()
    train_version()
    ll.promote("churn", 1, "production")
    assert verify_audit().ok
    # Straight into the database, as an admin with database access would (in remote mode
    # the server's database): the store's API offers no way to edit an event.
    engine = sa.create_engine(load_settings().db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_events SET actor = 'mallory' WHERE id = 2"))
    verdict = verify_audit()
    assert not verdict.ok and verdict.first_bad_id == 2 and "edited" in (verdict.problem or "")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_events SET actor = 'root' WHERE id = 2"))
        conn.execute(sa.text("DELETE FROM audit_events WHERE id = 2"))
    verdict = verify_audit()
    assert not verdict.ok and verdict.first_bad_id == 3 and "deleted" in (verdict.problem or "")
    engine.dispose()
