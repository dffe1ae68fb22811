"""Aliases, rollback, approvals, gate decisions, evaluations and the audit log on SQL.

An alias move is one write transaction: read the current holder, upsert the alias row,
append to `alias_moves`, append the audit event. Under SQLite's BEGIN IMMEDIATE, and on
PostgreSQL under the control-plane advisory lock plus a row lock on the model
(SELECT ... FOR NO KEY UPDATE), concurrent promotions serialise, so an alias always has
exactly one holder and the audit log exactly one event per move.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from loopline.errors import ConflictError
from loopline.store import _schema as t
from loopline.store._audit import append_audit
from loopline.store._records import (
    AliasMove,
    Approval,
    AuditEvent,
    EvaluationRecord,
    GateDecisionRecord,
)
from loopline.store._sql_registry import SqlRegistryStore, V, check_alias

A = t.model_aliases.c
M = t.alias_moves.c


class SqlPromotionStore(SqlRegistryStore):
    def _lock_model(self, conn: sa.Connection, model_id: int) -> None:
        """Row-lock the model until commit, so its aliases move one at a time.

        PostgreSQL: SELECT ... FOR NO KEY UPDATE (it does not block inserts that merely
        reference the model); SQLite ignores it, BEGIN IMMEDIATE already excludes writers.
        """
        conn.execute(
            sa.select(t.registered_models.c.id)
            .where(t.registered_models.c.id == model_id)
            .with_for_update(key_share=True)
        )

    def _holder(self, conn: sa.Connection, model_id: int, alias: str) -> Any:
        return conn.execute(
            sa.select(A.version_id, V.version)
            .join(t.model_versions, V.id == A.version_id)
            .where(A.model_id == model_id, A.alias == alias)
        ).first()

    def _move(
        self,
        conn: sa.Connection,
        model: str,
        alias: str,
        target: Any,
        *,
        actor: str,
        action: str,
        reason: str | None,
        gate_decision_id: int | None,
    ) -> AliasMove:
        now = time.time()
        mid = target.model_id
        self._lock_model(conn, mid)
        current = self._holder(conn, mid, alias)
        if current is None:
            conn.execute(
                sa.insert(t.model_aliases).values(
                    model_id=mid, alias=alias, version_id=target.id, moved_at=now, moved_by=actor
                )
            )
        else:
            conn.execute(
                sa.update(t.model_aliases)
                .where(A.model_id == mid, A.alias == alias)
                .values(version_id=target.id, moved_at=now, moved_by=actor)
            )
        move_id = conn.execute(
            sa.insert(t.alias_moves).values(
                model_id=mid,
                alias=alias,
                from_version_id=current.version_id if current else None,
                to_version_id=target.id,
                action=action,
                actor=actor,
                reason=reason,
                gate_decision_id=gate_decision_id,
                at=now,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        before = {"version": current.version} if current else None
        append_audit(
            conn,
            actor=actor,
            action=action,
            target_kind="alias",
            target_id=f"{model}@{alias}",
            before=before,
            after={"version": target.version, "gate_decision_id": gate_decision_id},
            reason=reason,
        )
        return AliasMove(
            move_id,
            model,
            alias,
            current.version if current else None,
            target.version,
            action,
            actor,
            reason,
            gate_decision_id,
            now,
        )

    def move_alias(
        self,
        model: str,
        alias: str,
        version: int,
        *,
        actor: str,
        action: str,
        reason: str | None = None,
        gate_decision_id: int | None = None,
    ) -> AliasMove:
        check_alias(alias)
        with self._control_engine.begin() as conn:
            target = self._version_row(conn, model, version)
            return self._move(
                conn,
                model,
                alias,
                target,
                actor=actor,
                action=action,
                reason=reason,
                gate_decision_id=gate_decision_id,
            )

    def rollback_alias(
        self, model: str, alias: str, *, actor: str, to_version: int | None, reason: str | None
    ) -> AliasMove:
        check_alias(alias)
        with self._control_engine.begin() as conn:
            mid = self._model_id(conn, model)
            self._lock_model(conn, mid)  # before reading the holder and its history
            current = self._holder(conn, mid, alias)
            if current is None:
                raise ConflictError(
                    f"model {model!r} has no alias {alias!r} to roll back",
                    hint=f"see `loopline models show {model}` for its aliases",
                )
            if to_version is None:
                # The version the alias held just before its last move (like `cd -`).
                prev = conn.execute(
                    sa.select(M.from_version_id)
                    .where(M.model_id == mid, M.alias == alias)
                    .order_by(M.id.desc())
                    .limit(1)
                ).scalar()
                if prev is None:
                    raise ConflictError(
                        f"{model}@{alias} has no previous holder to roll back to "
                        f"(version {current.version} is the first it ever pointed at)",
                        hint="pass --to VERSION to choose the version explicitly",
                    )
                target = conn.execute(sa.select(t.model_versions).where(V.id == prev)).one()
            else:
                target = self._version_row(conn, model, to_version)
            if target.id == current.version_id:
                raise ConflictError(
                    f"{model}@{alias} already points at version {target.version}",
                    hint="nothing to roll back",
                )
            return self._move(
                conn,
                model,
                alias,
                target,
                actor=actor,
                action="rollback",
                reason=reason,
                gate_decision_id=None,
            )

    def alias_history(self, model: str, alias: str | None = None) -> list[AliasMove]:
        frm = t.model_versions.alias("frm")
        to = t.model_versions.alias("to")
        with self._engine.begin() as conn:
            mid = self._model_id(conn, model)
            q = (
                sa.select(t.alias_moves, frm.c.version.label("from_v"), to.c.version.label("to_v"))
                .outerjoin(frm, frm.c.id == M.from_version_id)
                .join(to, to.c.id == M.to_version_id)
                .where(M.model_id == mid)
                .order_by(M.id)
            )
            if alias is not None:
                q = q.where(M.alias == alias)
            return [
                AliasMove(
                    r.id,
                    model,
                    r.alias,
                    r.from_v,
                    r.to_v,
                    r.action,
                    r.actor,
                    r.reason,
                    r.gate_decision_id,
                    r.at,
                )
                for r in conn.execute(q)
            ]

    # approvals, decisions, evaluations -------------------------------------------------------
    def add_approval(
        self, model: str, version: int, *, approver: str, role: str, comment: str | None
    ) -> Approval:
        now = time.time()
        with self._control_engine.begin() as conn:
            row = self._version_row(conn, model, version)
            # The two-person rule lives here, not only in `approve()`, so no client of the
            # store (remote or embedded) can approve its own model.
            if row.created_by == approver:
                raise ConflictError(
                    f"{approver} registered {model}/{version} and cannot approve it",
                    hint="ask another approver",
                )
            dup = conn.execute(
                sa.select(t.approvals.c.id).where(
                    t.approvals.c.version_id == row.id, t.approvals.c.approver == approver
                )
            ).first()
            if dup is not None:
                raise ConflictError(
                    f"{approver} already approved {model}/{version}", hint="one approval per person"
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
            row = self._version_row(conn, model, version)
            q = sa.select(t.approvals).where(t.approvals.c.version_id == row.id)
            return [
                Approval(r.version_id, r.approver, r.role, r.comment, r.at)
                for r in conn.execute(q.order_by(t.approvals.c.id))
            ]

    def record_gate_decision(
        self,
        model: str,
        version: int,
        *,
        alias: str,
        champion_version: int | None,
        policy: Mapping[str, Any],
        passed: bool,
        rules: list[dict[str, Any]],
        decided_by: str,
    ) -> GateDecisionRecord:
        now = time.time()
        with self._control_engine.begin() as conn:
            row = self._version_row(conn, model, version)
            champ = (
                self._version_row(conn, model, champion_version).id
                if champion_version is not None
                else None
            )
            did = conn.execute(
                sa.insert(t.gate_decisions).values(
                    version_id=row.id,
                    alias=alias,
                    champion_version_id=champ,
                    policy=dict(policy),
                    passed=passed,
                    rules=rules,
                    decided_by=decided_by,
                    at=now,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            append_audit(
                conn,
                actor=decided_by,
                action="gate_passed" if passed else "gate_failed",
                target_kind="model_version",
                target_id=f"{model}/{version}",
                after={
                    "alias": alias,
                    "decision_id": did,
                    "champion": champion_version,
                    "failed": [r["rule"] for r in rules if r["verdict"] == "fail"],
                },
            )
        return GateDecisionRecord(
            int(did), row.id, alias, champ, dict(policy), passed, rules, decided_by, now
        )

    def list_gate_decisions(self, model: str, version: int) -> list[GateDecisionRecord]:
        g = t.gate_decisions.c
        with self._engine.begin() as conn:
            row = self._version_row(conn, model, version)
            q = sa.select(t.gate_decisions).where(g.version_id == row.id).order_by(g.id)
            return [
                GateDecisionRecord(
                    r.id,
                    r.version_id,
                    r.alias,
                    r.champion_version_id,
                    r.policy,
                    r.passed,
                    r.rules,
                    r.decided_by,
                    r.at,
                )
                for r in conn.execute(q)
            ]

    def record_evaluation(
        self,
        model: str,
        version: int,
        *,
        dataset_fingerprint: str,
        task: str,
        metrics: Mapping[str, float],
        slices: Mapping[str, Any],
    ) -> EvaluationRecord:
        now = time.time()
        with self._control_engine.begin() as conn:
            row = self._version_row(conn, model, version)
            eid = conn.execute(
                sa.insert(t.evaluations).values(
                    version_id=row.id,
                    dataset_fingerprint=dataset_fingerprint,
                    task=task,
                    metrics=dict(metrics),
                    slices=dict(slices),
                    at=now,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        return EvaluationRecord(
            int(eid), row.id, dataset_fingerprint, task, dict(metrics), dict(slices), now
        )

    def list_evaluations(self, model: str, version: int) -> list[EvaluationRecord]:
        e = t.evaluations.c
        with self._engine.begin() as conn:
            row = self._version_row(conn, model, version)
            q = sa.select(t.evaluations).where(e.version_id == row.id).order_by(e.id)
            return [
                EvaluationRecord(
                    r.id, r.version_id, r.dataset_fingerprint, r.task, r.metrics, r.slices, r.at
                )
                for r in conn.execute(q)
            ]

    def record_event(
        self,
        *,
        actor: str,
        action: str,
        target_kind: str,
        target_id: str,
        after: Mapping[str, Any] | None = None,
        reason: str | None = None,
    ) -> None:
        with self._control_engine.begin() as conn:
            append_audit(
                conn,
                actor=actor,
                action=action,
                target_kind=target_kind,
                target_id=target_id,
                after=after,
                reason=reason,
            )

    def list_audit_events(self, after_id: int = 0, limit: int = 100_000) -> list[AuditEvent]:
        a = t.audit_events.c
        q = sa.select(t.audit_events).where(a.id > after_id).order_by(a.id).limit(limit)
        with self._engine.begin() as conn:
            return [
                AuditEvent(
                    r.id,
                    r.ts,
                    r.actor,
                    r.action,
                    r.target_kind,
                    r.target_id,
                    r.before,
                    r.after,
                    r.reason,
                    r.prev_hash,
                    r.hash,
                )
                for r in conn.execute(q)
            ]


__all__ = ["SqlPromotionStore"]
