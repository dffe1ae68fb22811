"""Property: whatever random roles do — register, evaluate, approve, decide, alias PUT,
rollback, deploy and complete — a protected alias only ever holds a version that had a
passing decision for it and the required approvals at the time of the move (or, for a
rollback, a version that held it before)."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from loopline.errors import LooplineError, NotFoundError
from loopline.identity import ROLES, same_user
from loopline.store import MetadataStore, ModelVersion
from tests.conftest import REMOTE
from tests.security.conftest import Become

POLICY = {"rules": ["auc >= 0.8"], "approvals": {"count": 1, "role": "approver"}}
USERS = ("paul", "Paul", "erin", "ci", "dana")
OPS = ("register", "evaluate", "approve", "decide", "put", "rollback", "deploy")
_models = itertools.count()

# The role each operation needs; a step uses it most of the time (else a random role), so
# that sequences reach real moves instead of being refused at the role check.
RIGHT_ROLE = {
    "register": "data-scientist",
    "evaluate": "ci",
    "approve": "approver",
    "decide": "approver",
    "put": "approver",
    "rollback": "ml-engineer",
    "deploy": "ml-engineer",
}
WEIGHTED = (*OPS, "evaluate", "approve", "approve", "decide", "decide", "put", "deploy")
step = st.tuples(
    st.sampled_from(WEIGHTED),
    st.sampled_from(USERS),
    st.one_of(st.none(), st.none(), st.none(), st.sampled_from(ROLES)),
    st.integers(1, 2),
    st.sampled_from([0.6, 0.9, 0.9]),
)


def _apply(
    s: MetadataStore,
    model: str,
    op: str,
    version: int,
    auc: float,
    reg: Callable[..., ModelVersion],
) -> None:
    if op == "register":
        reg(s, model)
    elif op == "evaluate":
        s.record_evaluation(
            model, version, dataset_fingerprint="e" * 64, task="c", metrics={"auc": auc}, slices={}
        )
    elif op == "approve":
        s.add_approval(model, version, approver="x", role="x", comment=None)
    elif op == "decide":
        s.record_gate_decision(model, version, alias="production", decided_by="x")
    elif op == "put":
        s.move_alias(model, "production", version, actor="x", action="promote")
    elif op == "rollback":
        s.rollback_alias(
            model, "production", actor="x", version=version if auc > 0.8 else None, reason=None
        )
    elif op == "deploy":
        champion = s.get_version_by_alias(model, "production").version
        d = s.create_deployment(
            model,
            alias="production",
            strategy="canary",
            champion_version=champion,
            challenger_version=version,
            params={},
            challenger_percent=5.0,
            actor="x",
        )
        s.update_deployment(
            d.id,
            expected_step=0,
            actor="x",
            action="deploy.complete",
            status="completed",
            promote_alias=True,
        )


def _check(s: MetadataStore, model: str, held: set[int]) -> None:
    try:
        holder = s.get_version_by_alias(model, "production")
    except NotFoundError:
        return
    last = s.alias_history(model, "production")[-1]
    if last.action == "rollback":
        assert last.to_version in held, f"rolled back to v{last.to_version}, never a holder"
        return
    decision = [d for d in s.list_gate_decisions(model, holder.version) if d.alias == "production"]
    assert decision and decision[-1].passed, f"v{holder.version} holds production ungated"
    assert decision[-1].at <= last.at
    approvers = {
        a.approver.casefold()
        for a in s.list_approvals(model, holder.version)
        if a.role == "approver" and not same_user(a.approver, holder.created_by) and a.at <= last.at
    }
    assert approvers, f"v{holder.version} holds production without a second person"


@settings(
    max_examples=10 if REMOTE else 60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=10, max_size=40))
def test_protected_alias_only_holds_gated_and_approved_versions(
    become: Become,
    register: Callable[..., ModelVersion],
    steps: list[tuple[str, str, str | None, int, float]],
) -> None:
    model = f"m{next(_models)}"
    owner = become("dana", "data-scientist")
    register(owner, model)
    register(owner, model)
    become("root", "admin").set_alias_policy(model, "production", policy=POLICY, actor="x")
    ci = become("ci", "ci")  # both versions start with trusted evidence, one good
    for v, auc in ((1, 0.9), (2, 0.6)):
        ci.record_evaluation(
            model, v, dataset_fingerprint="e" * 64, task="c", metrics={"auc": auc}, slices={}
        )
    held: set[int] = set()
    for op, user, role, version, auc in steps:
        s = become(user, role or RIGHT_ROLE[op])
        try:
            _apply(s, model, op, version, auc, register)
            event(f"{op} allowed")
        except LooplineError:
            event(f"{op} refused")  # the invariant must hold all the same
        _check(s, model, held)
        with contextlib.suppress(NotFoundError):
            held.add(s.get_version_by_alias(model, "production").version)
