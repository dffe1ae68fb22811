"""The evidence a promotion rests on, on SQL: approvals, alias policies, evaluations and the
gate decisions the store computes from them (see `_protocol` for the rules).

Each write is one transaction with its audit event. Who wrote it comes from the identity
arguments, which the governed store overwrites with the caller's token identity.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from loopline.errors import ConflictError, PermissionDeniedError
from loopline.identity import POLICY_WRITERS, same_user
from loopline.policy import GatePolicy
from loopline.store.records import (
    AliasPolicy,
    Approval,
    EvaluationRecord,
    GateDecisionRecord,
    check_alias,
)
from loopline.store.sql import _protocol as protocol
from loopline.store.sql import _schema as t
from loopline.store.sql._audit import append_audit
from loopline.store.sql._bounds import check_metrics, check_text
from loopline.store.sql._engine import SqlRepository
from loopline.store.sql._registry import V, find_model_id, find_version

A = t.model_aliases.c


def _decision(r: Any) -> GateDecisionRecord:
    return GateDecisionRecord(
        r.id,
        r.version_id,
        r.alias,
        r.champion_version_id,
        r.policy,
        r.passed,
        r.rules,
        r.decided_by,
        r.at,
        r.policy_revision,
    )


def alias_holder(conn: sa.Connection, model_id: int, alias: str) -> Any:
    """(version_id, version) of the version `alias` points at, or None."""
    return conn.execute(
        sa.select(A.version_id, V.version)
        .join(t.model_versions, V.id == A.version_id)
        .where(A.model_id == model_id, A.alias == alias)
    ).first()


class SqlEvidenceStore(SqlRepository):
    # approvals -------------------------------------------------------------------------------
    def add_approval(
        self, model: str, version: int, *, approver: str, role: str, comment: str | None
    ) -> Approval:
        check_text("comment", comment)
        now = time.time()
        with self._control_engine.begin() as conn:
            row = find_version(conn, model, version)
            # The two-person rule lives here, not only in `approve()`, so no client of the
            # store (remote or embedded) can approve its own model; names compare canonically.
            if same_user(row.created_by, approver):
                raise ConflictError(
                    f"{approver} registered {model}/{version} and cannot approve it",
                    hint="ask another approver",
                )
            for other in conn.execute(
                sa.select(t.approvals.c.approver).where(t.approvals.c.version_id == row.id)
            ).scalars():
                if same_user(other, approver):
                    raise ConflictError(
                        f"{approver} already approved {model}/{version}",
                        hint="one approval per person",
                    )
            conn.execute(
                sa.insert(t.approvals).values(
                    version_id=row.id, approver=approver, role=role, comment=comment, at=now
                )
            )
            append_audit(
                conn,
                actor=approver,
                action="approve",
                target_kind="model_version",
                target_id=f"{model}/{version}",
                after={"role": role},
                reason=comment,
            )
        return Approval(row.id, approver, role, comment, now)

    def list_approvals(self, model: str, version: int) -> list[Approval]:
        with self._engine.begin() as conn:
            row = find_version(conn, model, version)
            q = sa.select(t.approvals).where(t.approvals.c.version_id == row.id)
            return [
                Approval(r.version_id, r.approver, r.role, r.comment, r.at)
                for r in conn.execute(q.order_by(t.approvals.c.id))
            ]

    # alias policies --------------------------------------------------------------------------
    def set_alias_policy(
        self, model: str, alias: str, *, policy: Mapping[str, Any], actor: str
    ) -> AliasPolicy:
        check_alias(alias)
        parsed = GatePolicy.from_dict(dict(policy), f"policy for {model}@{alias}")
        with self._control_engine.begin() as conn:
            force = self._register_policy(
                conn, find_model_id(conn, model), model, alias, parsed, actor
            )
        return AliasPolicy(
            model, alias, True, force.revision, force.policy.get_params(), actor, force.set_at
        )

    def _register_policy(
        self,
        conn: sa.Connection,
        mid: int,
        model: str,
        alias: str,
        parsed: GatePolicy,
        actor: str,
    ) -> protocol.PolicyInForce:
        """A new revision of `alias`'s policy, audited, in the caller's transaction."""
        now = time.time()
        before = protocol.policy_in_force(conn, mid, alias)
        revision = (
            conn.execute(
                sa.select(sa.func.max(protocol.P.revision)).where(
                    protocol.P.model_id == mid, protocol.P.alias == alias
                )
            ).scalar()
            or 0
        ) + 1
        params = parsed.get_params()
        conn.execute(
            sa.insert(t.alias_policies).values(
                model_id=mid,
                alias=alias,
                revision=revision,
                policy=params,
                set_by=actor,
                set_at=now,
            )
        )
        append_audit(
            conn,
            actor=actor,
            action="policy.set",
            target_kind="alias",
            target_id=f"{model}@{alias}",
            before={"revision": before.revision, "policy": before.policy.get_params()},
            after={"revision": revision, "policy": params},
        )
        return protocol.PolicyInForce(True, revision, parsed, actor, now)

    def get_alias_policy(self, model: str, alias: str) -> AliasPolicy:
        with self._engine.begin() as conn:
            force = protocol.policy_in_force(conn, find_model_id(conn, model), alias)
        return AliasPolicy(
            model,
            alias,
            force.protected,
            force.revision,
            force.policy.get_params(),
            force.set_by,
            force.set_at,
        )

    # gate decisions --------------------------------------------------------------------------
    def record_gate_decision(
        self,
        model: str,
        version: int,
        *,
        alias: str,
        decided_by: str,
        policy: Mapping[str, Any] | None = None,
        dataset_fingerprint: str | None = None,
        decider_role: str = "unknown",
    ) -> GateDecisionRecord:
        check_alias(alias)
        now = time.time()
        with self._control_engine.begin() as conn:
            row = find_version(conn, model, version)
            force = protocol.policy_in_force(conn, row.model_id, alias)
            asked = GatePolicy.from_dict(dict(policy)) if policy is not None else None
            if asked is not None and not force.protected:
                force = protocol.PolicyInForce(False, 0, asked)
            elif asked is not None and asked.get_params() != force.policy.get_params():
                if decider_role not in POLICY_WRITERS:
                    raise PermissionDeniedError(
                        f"{decided_by} ({decider_role}) may not policy.write: {model}@{alias} "
                        f"is protected and gated by its registered policy "
                        f"(revision {force.revision})",
                        hint="omit the policy, or ask an approver or admin to register it",
                        details={"action": "policy.write", "role": decider_role},
                    )
                force = self._register_policy(conn, row.model_id, model, alias, asked, decided_by)
            holder = alias_holder(conn, row.model_id, alias)
            champion = (
                conn.execute(sa.select(t.model_versions).where(V.id == holder.version_id)).one()
                if holder is not None
                else None
            )
            if champion is not None and champion.id == row.id:
                raise ConflictError(
                    f"{model}@{alias} already points at version {version}", hint="nothing to do"
                )
            if force.protected:
                protocol.check_not_backwards(
                    model, alias, row, champion.version if champion is not None else None
                )
            decision = protocol.decide(
                conn, model, row, champion, alias, force, dataset_fingerprint
            )
            rules = [r.to_dict() for r in decision.results]
            revision = force.revision if force.protected else None
            did = conn.execute(
                sa.insert(t.gate_decisions).values(
                    version_id=row.id,
                    alias=alias,
                    champion_version_id=champion.id if champion is not None else None,
                    policy=decision.policy,
                    passed=decision.passed,
                    rules=rules,
                    decided_by=decided_by,
                    at=now,
                    policy_revision=revision,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            append_audit(
                conn,
                actor=decided_by,
                action="gate_passed" if decision.passed else "gate_failed",
                target_kind="model_version",
                target_id=f"{model}/{version}",
                after={
                    "alias": alias,
                    "decision_id": did,
                    "champion": champion.version if champion is not None else None,
                    "policy_revision": revision,
                    "failed": [r["rule"] for r in rules if r["verdict"] == "fail"],
                },
            )
            q = sa.select(t.gate_decisions).where(protocol.G.id == did)
            return _decision(conn.execute(q).one())

    def list_gate_decisions(self, model: str, version: int) -> list[GateDecisionRecord]:
        g = t.gate_decisions.c
        with self._engine.begin() as conn:
            row = find_version(conn, model, version)
            q = sa.select(t.gate_decisions).where(g.version_id == row.id).order_by(g.id)
            return [_decision(r) for r in conn.execute(q)]

    # evaluations -----------------------------------------------------------------------------
    def record_evaluation(
        self,
        model: str,
        version: int,
        *,
        dataset_fingerprint: str,
        task: str,
        metrics: Mapping[str, float],
        slices: Mapping[str, Any],
        recorded_by: str = "unknown",
        recorder_role: str = "unknown",
    ) -> EvaluationRecord:
        check_metrics("metrics", metrics)
        check_text("dataset_fingerprint", dataset_fingerprint, limit=64)
        check_text("task", task, limit=32)
        now = time.time()
        with self._control_engine.begin() as conn:
            row = find_version(conn, model, version)
            eid = conn.execute(
                sa.insert(t.evaluations).values(
                    version_id=row.id,
                    dataset_fingerprint=dataset_fingerprint,
                    task=task,
                    metrics=dict(metrics),
                    slices=dict(slices),
                    at=now,
                    recorded_by=recorded_by,
                    recorder_role=recorder_role,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            append_audit(
                conn,
                actor=recorded_by,
                action="evaluate",
                target_kind="model_version",
                target_id=f"{model}/{version}",
                after={
                    "evaluation_id": eid,
                    "dataset": dataset_fingerprint,
                    "role": recorder_role,
                    "metrics": dict(metrics),
                },
            )
        return EvaluationRecord(
            int(eid),
            row.id,
            dataset_fingerprint,
            task,
            dict(metrics),
            dict(slices),
            now,
            recorded_by,
            recorder_role,
        )

    def list_evaluations(self, model: str, version: int) -> list[EvaluationRecord]:
        e = t.evaluations.c
        with self._engine.begin() as conn:
            row = find_version(conn, model, version)
            q = sa.select(t.evaluations).where(e.version_id == row.id).order_by(e.id)
            return [
                EvaluationRecord(
                    r.id,
                    r.version_id,
                    r.dataset_fingerprint,
                    r.task,
                    r.metrics,
                    r.slices,
                    r.at,
                    r.recorded_by,
                    r.recorder_role,
                )
                for r in conn.execute(q)
            ]


__all__ = ["SqlEvidenceStore"]
