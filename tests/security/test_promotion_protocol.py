"""The promotion protocol is enforced by the store, on every path that can move an alias.

Each test names the finding of issue 15 it reproduces; every refused call must leave the
store byte-for-byte unchanged (`dump()` before and after).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from loopline.errors import ConflictError, InvalidInputError, LooplineError, PermissionDeniedError
from loopline.store import MetadataStore, ModelVersion
from tests.conftest import REMOTE
from tests.security.conftest import Become, dump

Register = Callable[..., ModelVersion]
STRICT = {
    "name": "loan-production",
    "rules": ["auc >= 0.8"],
    "approvals": {"count": 1, "role": "approver"},
}


def _refused(call: Callable[[], Any], error: type[LooplineError], match: str) -> None:
    before = dump()
    with pytest.raises(error, match=match):
        call()
    assert dump() == before, "a refused call changed the store"


def _setup(become: Become, register: Register) -> MetadataStore:
    """loan v1 in production under STRICT (evaluated, approved), v2 registered by dana."""
    ds = become("dana", "data-scientist")
    register(ds, "loan")
    register(ds, "loan")
    approver = become("paul", "approver")
    approver.set_alias_policy("loan", "production", policy=STRICT, actor="x")
    ev = become("ci", "ci")
    ev.record_evaluation(
        "loan", 1, dataset_fingerprint="f" * 64, task="c", metrics={"auc": 0.9}, slices={}
    )
    approver = become("paul", "approver")
    approver.add_approval("loan", 1, approver="x", role="x", comment=None)
    d = approver.record_gate_decision("loan", 1, alias="production", decided_by="x")
    assert d.passed, d.rules
    approver.move_alias("loan", "production", 1, actor="x", action="promote", gate_decision_id=d.id)
    return approver


def test_alias_put_to_a_version_whose_gate_failed_is_refused(
    become: Become, register: Register
) -> None:
    """Finding: an approver moves production to a version whose gate failed with one PUT."""
    approver = _setup(become, register)
    become("ci", "ci").record_evaluation(
        "loan", 2, dataset_fingerprint="f" * 64, task="c", metrics={"auc": 0.6}, slices={}
    )
    approver = become("paul", "approver")
    approver.add_approval("loan", 2, approver="x", role="x", comment=None)
    failed = approver.record_gate_decision("loan", 2, alias="production", decided_by="x")
    assert not failed.passed
    _refused(
        lambda: approver.move_alias("loan", "production", 2, actor="x", action="promote"),
        ConflictError,
        "failed its latest gate",
    )


def test_alias_put_without_decision_or_approvals_is_refused(
    become: Become, register: Register
) -> None:
    """Finding: an approver moves production to a version with no approvals (or no gate)."""
    approver = _setup(become, register)
    _refused(
        lambda: approver.move_alias("loan", "production", 2, actor="x", action="promote"),
        ConflictError,
        "no gate decision",
    )
    become("ci", "ci").record_evaluation(
        "loan", 2, dataset_fingerprint="f" * 64, task="c", metrics={"auc": 0.95}, slices={}
    )
    approver = become("paul", "approver")
    no_approval = approver.record_gate_decision("loan", 2, alias="production", decided_by="x")
    assert not no_approval.passed  # the store counted the approvals: none
    assert any(
        r["rule"].startswith("approvals") and r["verdict"] == "fail" for r in no_approval.rules
    )


def test_forged_evaluation_cannot_pass_a_gate(become: Become, register: Register) -> None:
    """Finding: a data scientist POSTs evaluations {"auc": 0.99} that a gate then believes."""
    approver = _setup(become, register)
    ds = become("dana", "data-scientist")
    forged = ds.record_evaluation(
        "loan", 2, dataset_fingerprint="f" * 64, task="c", metrics={"auc": 0.99}, slices={}
    )
    assert forged.recorder_role == "data-scientist"  # provenance: the token's role, not a claim
    approver = become("paul", "approver")
    approver.add_approval("loan", 2, approver="x", role="x", comment=None)
    _refused(
        lambda: approver.record_gate_decision("loan", 2, alias="production", decided_by="x"),
        ConflictError,
        "only evaluations recorded by the ci role count",
    )


def test_a_stale_decision_does_not_move_the_alias(become: Become, register: Register) -> None:
    """Finding (protocol): a decision older than the version's latest evidence is stale."""
    _setup(become, register)
    ev = become("ci", "ci")
    ev.record_evaluation(
        "loan", 2, dataset_fingerprint="f" * 64, task="c", metrics={"auc": 0.95}, slices={}
    )
    approver = become("paul", "approver")
    approver.add_approval("loan", 2, approver="x", role="x", comment=None)
    ok = approver.record_gate_decision("loan", 2, alias="production", decided_by="x")
    assert ok.passed
    become("ci", "ci").record_evaluation(
        "loan", 2, dataset_fingerprint="f" * 64, task="c", metrics={"auc": 0.5}, slices={}
    )
    approver = become("paul", "approver")
    _refused(
        lambda: approver.move_alias(
            "loan", "production", 2, actor="x", action="promote", gate_decision_id=ok.id
        ),
        ConflictError,
        "stale gate decision: evidence was recorded after it",
    )


def test_gate_decision_of_another_version_is_refused(become: Become, register: Register) -> None:
    """Finding: the store accepts a gate_decision_id that belongs to another version."""
    approver = _setup(become, register)
    other = approver.list_gate_decisions("loan", 1)[-1].id
    register(become("dana", "data-scientist"), "loan")
    approver = become("paul", "approver")
    _refused(
        lambda: approver.move_alias(
            "loan", "staging", 3, actor="x", action="promote", gate_decision_id=other
        ),
        PermissionDeniedError,  # approvers may not move staging at all
        "may not",
    )
    admin = become("root", "admin")
    _refused(
        lambda: admin.move_alias(
            "loan", "staging", 3, actor="x", action="promote", gate_decision_id=other
        ),
        ConflictError,
        "is not a decision for loan/3",
    )


def test_ml_engineer_cannot_roll_production_to_any_version(
    become: Become, register: Register
) -> None:
    """Finding: POST .../aliases/production/rollback {"version": N} to any version."""
    _setup(become, register)
    mle = become("erin", "ml-engineer")
    _refused(
        lambda: mle.rollback_alias("loan", "production", actor="x", version=2, reason=None),
        ConflictError,
        "never held it",
    )


def test_deployment_cannot_carry_an_ungated_version_to_production(
    become: Become, register: Register
) -> None:
    """Finding: `deploy start` accepts a version the gate refused, and the completed canary
    (or PATCH promote_alias) moves production to it."""
    _setup(become, register)
    mle = become("erin", "ml-engineer")
    for strategy in ("canary", "blue_green", "ab"):
        _refused(
            lambda s=strategy: mle.create_deployment(  # type: ignore[misc]
                "loan",
                alias="production",
                strategy=s,
                champion_version=1,
                challenger_version=2,
                params={},
                challenger_percent=5.0,
                actor="x",
            ),
            ConflictError,
            "no gate decision",
        )
    shadow = mle.create_deployment(
        "loan",
        alias="production",
        strategy="shadow",
        champion_version=1,
        challenger_version=2,
        params={},
        challenger_percent=0.0,
        actor="x",
    )
    _refused(
        lambda: mle.update_deployment(
            shadow.id,
            expected_step=0,
            actor="x",
            action="deploy.complete",
            status="completed",
            promote_alias=True,
        ),
        ConflictError,
        "no gate decision",
    )
    assert mle.get_version_by_alias("loan", "production").version == 1


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"alias": "PRODUCTION ../x"}, "alias"),
        ({"strategy": "nonsense"}, "unknown strategy"),
        ({"challenger_percent": 250.0}, "not a percentage"),
        ({"challenger_percent": -5.0}, "not a percentage"),
    ],
)
def test_deployment_fields_are_validated(
    become: Become, register: Register, fields: dict[str, Any], match: str
) -> None:
    """Finding: deployments accept alias "PRODUCTION ../x", strategy "nonsense" and
    challenger_percent 250 and -5."""
    admin = become("root", "admin")
    register(admin, "loan")
    register(admin, "loan")
    args: dict[str, Any] = {
        "alias": "candidate",
        "strategy": "shadow",
        "champion_version": 1,
        "challenger_version": 2,
        "params": {},
        "challenger_percent": 0.0,
        "actor": "x",
    } | fields
    _refused(lambda: admin.create_deployment("loan", **args), InvalidInputError, match)


def test_a_version_must_name_a_stored_artifact(become: Become, register: Register) -> None:
    """Finding: create_version accepts an sha256 of 64 zeros that names no artifact."""
    ds = become("dana", "data-scientist")
    seed = ds.get_version("seed", 1)
    _refused(
        lambda: ds.create_version(
            "loan",
            run_id=seed.run_id,
            artifact_path="model",
            sha256="0" * 64,
            flavor="sklearn",
            signature=None,
            metrics={},
            git_commit=None,
            created_by="x",
            card={},
        ),
        InvalidInputError,
        "no artifact",
    )


def test_deep_model_card_is_refused_and_reads_keep_working(
    become: Become, register: Register
) -> None:
    """Finding: a model card nested 900 levels deep is stored, and from then on audit reads,
    version lists, `audit verify` and `models show` fail with RecursionError."""
    ds = become("dana", "data-scientist")
    if REMOTE:  # the Python client cannot even serialise it: send the raw JSON
        import httpx

        seed = ds.get_version("seed", 1)
        card = '{"x":' * 900 + "{}" + "}" * 900
        body = (
            f'{{"run_id": "{seed.run_id}", "artifact_path": "m", "sha256": "{seed.sha256}", '
            f'"flavor": "sklearn", "signature": null, "metrics": {{}}, "git_commit": null, '
            f'"card": {card}}}'
        )
        before = dump()
        r = httpx.post(
            f"{os.environ['LOOPLINE_URL']}/api/v1/models/loan/versions",
            content=body,
            headers={
                "Authorization": f"Bearer {os.environ['LOOPLINE_TOKEN']}",
                "Content-Type": "application/json",
            },
        )
        assert 400 <= r.status_code < 500 and "error" in r.json(), r.text
        assert dump() == before
    else:
        deep: Any = {}
        for _ in range(900):
            deep = {"x": deep}
        _refused(lambda: register(ds, "loan", nested=deep), InvalidInputError, "nested more than")
    assert ds.list_audit_events()  # still readable
    assert ds.list_versions("seed")


def test_clients_cannot_write_audit_events() -> None:
    """Finding: POST /audit/events with any action and target is accepted."""
    from loopline.store.operations import BY_METHOD

    assert "record_event" not in BY_METHOD
    assert all(op.path != "/audit/events" or op.verb == "GET" for op in BY_METHOD.values())


def test_recording_an_evaluation_is_audited(become: Become, register: Register) -> None:
    """Finding: recording an evaluation writes no audit event."""
    ds = become("dana", "data-scientist")
    register(ds, "loan")
    ds.record_evaluation(
        "loan", 1, dataset_fingerprint="a" * 64, task="c", metrics={"auc": 0.7}, slices={}
    )
    events = [e for e in ds.list_audit_events() if e.action == "evaluate"]
    assert len(events) == 1 and events[0].actor == "dana"
    assert events[0].after is not None and events[0].after["role"] == "data-scientist"


def test_alias_reasons_are_bounded(become: Become, register: Register) -> None:
    """Finding: alias reasons are free text of any size (e.g. "approved by CISO" pasted 1e6
    times); they are bounded, and always attributed to the mover in the audit event."""
    admin = become("root", "admin")
    register(admin, "loan")
    _refused(
        lambda: admin.move_alias(
            "loan", "candidate", 1, actor="x", action="promote", reason="x" * 5000
        ),
        InvalidInputError,
        "at most 2000",
    )


def _pickled_version(become: Become) -> ModelVersion:
    import loopline as ll
    from tests.security._models import Threshold

    ds = become("dana", "data-scientist")
    with ll.start_run(experiment="security") as run:
        info = run.log_model(Threshold(), unsafe_pickle=True)
    seed = ds.get_version("seed", 1)
    # The author's card claims a safe format; the store reads the manifest instead.
    return ds.create_version(
        "loan",
        run_id=seed.run_id,
        artifact_path="model",
        sha256=info.sha256,
        flavor="generic",
        signature=None,
        metrics={},
        git_commit=None,
        created_by="x",
        card={"unsafe_pickle": False, "serialization": "skops"},
    )


def test_a_pickled_model_is_marked_by_the_store_and_refused_for_production(
    become: Become, register: Register
) -> None:
    """Finding: a pickle-based model reaches production; its card is the author's word."""
    v = _pickled_version(become)
    assert v.card["unsafe_pickle"] is True and v.card["serialization"] == "joblib"
    approver = become("paul", "approver")
    refused = approver.record_gate_decision("loan", v.version, alias="production", decided_by="x")
    assert not refused.passed
    assert [r["rule"] for r in refused.rules if r["verdict"] == "fail"] == ["no unsafe pickle"]
    allowed = approver.record_gate_decision(
        "loan",
        v.version,
        alias="production",
        decided_by="x",
        policy={"name": "legacy", "allow_unsafe_pickle": True},
    )
    assert allowed.passed and allowed.policy_revision == 1  # registered, audited
    approver.move_alias("loan", "production", v.version, actor="x", action="promote")


def test_the_store_knows_the_same_safe_formats_as_the_loader() -> None:
    """The store marks packages itself; it must agree with the model flavors."""
    from loopline.models import _flavors
    from loopline.store.governed import SAFE_SERIALIZATIONS

    every = {s for formats in _flavors.SERIALIZATIONS.values() for s in formats}
    assert every - set(_flavors.PICKLE_SERIALIZATIONS) == SAFE_SERIALIZATIONS
