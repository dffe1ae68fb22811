"""Alias moves and rollbacks on SQL (the evidence they need: `_sql_evidence`).

An alias move is one write transaction: read the current holder, upsert the alias row,
append to `alias_moves`, append the audit event. Under SQLite's BEGIN IMMEDIATE, and on
PostgreSQL under the control-plane advisory lock plus a row lock on the model
(SELECT ... FOR NO KEY UPDATE), concurrent promotions serialise, so an alias always has
exactly one holder and the audit log exactly one event per move.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from loopline.errors import ConflictError
from loopline.store.records import AliasMove, check_alias
from loopline.store.sql import _protocol as protocol
from loopline.store.sql import _schema as t
from loopline.store.sql._audit import append_audit
from loopline.store.sql._bounds import check_text
from loopline.store.sql._engine import SqlRepository
from loopline.store.sql._evidence import alias_holder
from loopline.store.sql._registry import V, find_model_id, find_version

A = t.model_aliases.c
M = t.alias_moves.c


def lock_model(conn: sa.Connection, model_id: int) -> None:
    """Row-lock the model until commit, so its aliases move one at a time.

    PostgreSQL: SELECT ... FOR NO KEY UPDATE (it does not block inserts that merely
    reference the model); SQLite ignores it, BEGIN IMMEDIATE already excludes writers.
    """
    conn.execute(
        sa.select(t.registered_models.c.id)
        .where(t.registered_models.c.id == model_id)
        .with_for_update(key_share=True)
    )


def move_alias_in(
    conn: sa.Connection,
    model: str,
    alias: str,
    target: Any,
    *,
    actor: str,
    action: str,
    reason: str | None,
    gate_decision_id: int | None,
    rollback: bool = False,
) -> AliasMove:
    """Move the alias; a protected one only as the protocol allows (a rollback only to
    a previous holder, checked by the caller; any other move needs its gate)."""
    now = time.time()
    mid = target.model_id
    lock_model(conn, mid)
    current = alias_holder(conn, mid, alias)
    if not rollback:
        gate_decision_id = protocol.check_protected_move(
            conn,
            model,
            mid,
            alias,
            target,
            current.version_id if current else None,
            gate_decision_id,
        )
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


class SqlPromotionStore(SqlRepository):
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
        check_text("reason", reason)
        with self._control_engine.begin() as conn:
            target = find_version(conn, model, version)
            return move_alias_in(
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
        self, model: str, alias: str, *, actor: str, version: int | None, reason: str | None
    ) -> AliasMove:
        check_alias(alias)
        check_text("reason", reason)
        with self._control_engine.begin() as conn:
            mid = find_model_id(conn, model)
            lock_model(conn, mid)  # before reading the holder and its history
            current = alias_holder(conn, mid, alias)
            if current is None:
                raise ConflictError(
                    f"model {model!r} has no alias {alias!r} to roll back",
                    hint=f"see `loopline models show {model}` for its aliases",
                )
            if version is None:
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
                        hint=f"promote another version instead: loopline models promote "
                        f"{model} VERSION {alias} (an unprotected alias also takes "
                        "--to-version N, version=N in Python)",
                    )
                target = conn.execute(sa.select(t.model_versions).where(V.id == prev)).one()
            else:
                target = find_version(conn, model, version)
            if target.id == current.version_id:
                raise ConflictError(
                    f"{model}@{alias} already points at version {target.version}",
                    hint="nothing to roll back",
                )
            protocol.check_rollback_target(conn, model, mid, alias, target)
            return move_alias_in(
                conn,
                model,
                alias,
                target,
                actor=actor,
                action="rollback",
                reason=reason,
                gate_decision_id=None,
                rollback=True,
            )

    def alias_history(self, model: str, alias: str | None = None) -> list[AliasMove]:
        frm = t.model_versions.alias("frm")
        to = t.model_versions.alias("to")
        with self._engine.begin() as conn:
            mid = find_model_id(conn, model)
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


__all__ = ["SqlPromotionStore"]
