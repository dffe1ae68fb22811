"""The promotion protocol, enforced by the store inside the transaction of the change.

A *protected* alias (`production` always; any alias a model registers a policy for) moves
only when, read in the same transaction as the move:

- a gate decision the store computed for exactly this (model, version, alias) passed,
  under the policy revision in force now, against the alias's current holder, and after
  the latest trusted evidence of both versions (so no newer evaluation is ignored);
- the approvals the policy requires are present now: distinct canonical users, never the
  version's author, with the role the policy names;
- a rollback returns only to a version that held the alias before.

The decision itself is computed here, from evidence the store holds: evaluations recorded
by a trusted role (`identity.TRUSTED_EVALUATOR_ROLES`), the run's validation tags, and the
approvals above. A client can ask for a decision; it cannot supply one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from loopline.errors import ConflictError, InvalidInputError
from loopline.identity import TRUSTED_EVALUATOR_ROLES, same_user
from loopline.policy import GateDecision, GatePolicy, PromotionGate, UnknownMetricError
from loopline.store.sql import _schema as t

PROTECTED_BY_DEFAULT = frozenset({"production"})
# production's gate until a model registers its own: the gate must pass (no pickle) and the
# mover needs the production permission; register a policy to require rules and approvals.
DEFAULT_POLICY = GatePolicy(name="production-default")

P = t.alias_policies.c
E = t.evaluations.c
G = t.gate_decisions.c
AP = t.approvals.c


@dataclass(frozen=True)
class PolicyInForce:
    protected: bool
    revision: int
    policy: GatePolicy
    set_by: str | None = None
    set_at: float | None = None


def policy_in_force(conn: sa.Connection, model_id: int, alias: str) -> PolicyInForce:
    row = conn.execute(
        sa.select(t.alias_policies)
        .where(P.model_id == model_id, P.alias == alias)
        .order_by(P.revision.desc())
        .limit(1)
    ).first()
    if row is not None:
        return PolicyInForce(
            True, row.revision, GatePolicy.from_params(row.policy), row.set_by, row.set_at
        )
    if alias in PROTECTED_BY_DEFAULT:
        return PolicyInForce(True, 0, DEFAULT_POLICY)
    return PolicyInForce(False, 0, GatePolicy())


def _evaluations(conn: sa.Connection, version_id: int, trusted_only: bool) -> list[Any]:
    q = sa.select(t.evaluations).where(E.version_id == version_id).order_by(E.id)
    if trusted_only:
        q = q.where(E.recorder_role.in_(sorted(TRUSTED_EVALUATOR_ROLES)))
    return list(conn.execute(q))


def latest_trusted_evidence_at(conn: sa.Connection, version_id: int) -> float:
    at = conn.execute(
        sa.select(sa.func.max(E.at)).where(
            E.version_id == version_id, E.recorder_role.in_(sorted(TRUSTED_EVALUATOR_ROLES))
        )
    ).scalar()
    return float(at or 0.0)


def evidence(
    conn: sa.Connection, version: Any, fingerprint: str | None, protected: bool
) -> tuple[dict[str, float], str | None, bool]:
    """(metrics, dataset fingerprint they come from, found) to judge `version` by: its
    evaluation on `fingerprint` if any, else its latest one, else its training metrics. For a
    protected alias only trusted records count: evaluations by a trusted role, and training
    metrics only if a trusted role registered the version (never the author's word)."""
    evals = _evaluations(conn, version.id, trusted_only=protected)
    same = [e for e in evals if e.dataset_fingerprint == fingerprint]
    chosen = same or evals
    if chosen:
        return dict(chosen[-1].metrics), chosen[-1].dataset_fingerprint, True
    if protected and version.creator_role not in TRUSTED_EVALUATOR_ROLES:
        return {}, None, False
    return dict(version.metrics), None, True


def counted_approvals(conn: sa.Connection, version: Any) -> list[tuple[str, str]]:
    """(approver, role) of every approval that counts: one per person, never the author."""
    out: list[tuple[str, str]] = []
    for r in conn.execute(sa.select(t.approvals).where(AP.version_id == version.id)):
        if same_user(r.approver, version.created_by):
            continue
        if any(same_user(r.approver, seen) for seen, _ in out):
            continue
        out.append((r.approver, r.role))
    return out


def _validation(conn: sa.Connection, run_id: str) -> dict[str, str]:
    tg = t.tags.c
    rows = conn.execute(
        sa.select(tg.key, tg.value).where(tg.run_id == run_id, tg.key.like("validation.%"))
    )
    return {r.key: r.value for r in rows}


def decide(
    conn: sa.Connection,
    model: str,
    candidate: Any,
    champion: Any | None,
    alias: str,
    force: PolicyInForce,
    fingerprint: str | None,
) -> GateDecision:
    """The gate's decision on the evidence the store holds (pure apart from the reads)."""
    cand, used, found = evidence(conn, candidate, fingerprint, force.protected)
    champ = (
        evidence(conn, champion, fingerprint or used, force.protected)[0]
        if champion is not None
        else None
    )
    gate = PromotionGate(force.policy)
    try:
        return gate.decide(
            cand,
            champ,
            validation=_validation(conn, candidate.run_id),
            approvals=counted_approvals(conn, candidate),
            unsafe_pickle=bool(candidate.card.get("unsafe_pickle")) if force.protected else None,
        )
    except UnknownMetricError as exc:
        if found and (exc.champion or exc.spelling):
            raise  # the rule is likely misspelled, or the champion's evidence is incomplete
        if found:  # a metric no evaluation of this version has recorded yet
            raise InvalidInputError(
                f"{model}/{candidate.version} cannot be gated for @{alias} on its recorded "
                f"evidence: {exc.message}",
                hint=f"evaluate it first: loopline models gate {model} {candidate.version} "
                f"{alias} --data HOLDOUT --target LABEL"
                + (" --slice COLUMN" if exc.metric.startswith("slice_gap.") else ""),
                details=exc.details,
            ) from None
        raise ConflictError(
            f"the {alias} gate of {model}/{candidate.version} cannot be decided: {exc.message} "
            "(for a protected alias only evaluations recorded by the ci role count)",
            hint="have CI record one with a ci-role token: "
            f"loopline models evaluate models:/{model}/{candidate.version} --data … --target …",
        ) from None


def _refuse(model: str, alias: str, version: int, why: str, hint: str) -> ConflictError:
    return ConflictError(f"{model}@{alias} is protected: version {version} {why}", hint=hint)


def check_protected_move(
    conn: sa.Connection,
    model: str,
    model_id: int,
    alias: str,
    target: Any,
    holder_version_id: int | None,
    gate_decision_id: int | None,
) -> int | None:
    """Raise ConflictError unless `target` may take protected `alias` now; returns the id of
    the decision that allows it (None for an unprotected alias)."""
    force = policy_in_force(conn, model_id, alias)
    if not force.protected:
        if gate_decision_id is not None:
            check_decision_belongs(conn, gate_decision_id, target, alias, model)
        return gate_decision_id
    holder = (
        conn.execute(
            sa.select(t.model_versions.c.version).where(t.model_versions.c.id == holder_version_id)
        ).scalar()
        if holder_version_id is not None
        else None
    )
    check_not_backwards(model, alias, target, holder)
    promote = f"loopline models promote {model} {target.version} {alias}"
    row = conn.execute(
        sa.select(t.gate_decisions)
        .where(G.version_id == target.id, G.alias == alias)
        .order_by(G.id.desc())
        .limit(1)
    ).first()
    if row is None:
        raise _refuse(model, alias, target.version, "has no gate decision for it", promote)
    if gate_decision_id is not None and gate_decision_id != row.id:
        check_decision_belongs(conn, gate_decision_id, target, alias, model)
        raise _refuse(
            model,
            alias,
            target.version,
            f"has a newer gate decision (#{row.id}) than #{gate_decision_id}",
            promote,
        )
    if not row.passed:
        failed = [r["rule"] for r in row.rules if r.get("verdict") == "fail"]
        raise _refuse(
            model,
            alias,
            target.version,
            f"failed its latest gate (#{row.id}: {', '.join(failed)})",
            "fix the model or its evidence, then promote again",
        )
    stale = _staleness(conn, row, force, holder_version_id, target)
    if stale:
        raise _refuse(model, alias, target.version, f"has a stale gate decision: {stale}", promote)
    need = force.policy.approvals_count
    if need:
        role = force.policy.approvals_role
        ok = [a for a, r in counted_approvals(conn, target) if role is None or r == role]
        if len(ok) < need:
            raise _refuse(
                model,
                alias,
                target.version,
                f"needs {need} approval(s){f' ({role})' if role else ''} from someone other "
                f"than its author; it has {len(ok)}",
                f"ask an approver: loopline models approve {model} {target.version}",
            )
    return int(row.id)


def _staleness(
    conn: sa.Connection, row: Any, force: PolicyInForce, holder: int | None, target: Any
) -> str | None:
    if (row.policy_revision or 0) != force.revision:
        return f"the policy changed since (revision {force.revision} now)"
    if row.champion_version_id != holder:
        return "the alias has moved since it was decided"
    newest = max(
        latest_trusted_evidence_at(conn, target.id),
        latest_trusted_evidence_at(conn, holder) if holder is not None else 0.0,
    )
    if newest > row.at:
        return "evidence was recorded after it"
    return None


def check_not_backwards(model: str, alias: str, target: Any, holder_version: int | None) -> None:
    """A protected alias never moves forward to a version older than its holder: that is a
    rollback (audited as one, to a previous holder), not a promotion. A pipeline re-run whose
    training came from the step cache cannot put last month's model back this way."""
    if holder_version is not None and target.version < holder_version:
        raise ConflictError(
            f"{model}@{alias} is protected: version {target.version} is older than its "
            f"holder, version {holder_version}; the loop does not promote backwards",
            hint=f"to go back on purpose: loopline models rollback {model} {alias} "
            f"--to-version {target.version} (it must have held {alias} before)",
        )


def check_decision_belongs(
    conn: sa.Connection, decision_id: int, target: Any, alias: str, model: str
) -> None:
    row = conn.execute(sa.select(G.version_id, G.alias).where(G.id == decision_id)).first()
    if row is None or row.version_id != target.id or row.alias != alias:
        raise ConflictError(
            f"gate decision #{decision_id} is not a decision for {model}/{target.version} @{alias}",
            hint="pass the id of this version's own decision for this alias",
        )


def check_rollback_target(
    conn: sa.Connection, model: str, model_id: int, alias: str, target: Any
) -> None:
    """A protected alias rolls back only to a version that held it before."""
    if not policy_in_force(conn, model_id, alias).protected:
        return
    m = t.alias_moves.c
    held = {
        r[0]
        for r in conn.execute(
            sa.select(m.to_version_id).where(m.model_id == model_id, m.alias == alias)
        )
    }
    if target.id not in held:
        raise ConflictError(
            f"{model}@{alias} is protected and version {target.version} never held it: a "
            "rollback returns only to a previous holder",
            hint=f"see `loopline models history {model}`; to move it forward, promote",
        )


__all__ = [
    "DEFAULT_POLICY",
    "PROTECTED_BY_DEFAULT",
    "PolicyInForce",
    "check_decision_belongs",
    "check_not_backwards",
    "check_protected_move",
    "check_rollback_target",
    "decide",
    "policy_in_force",
]
