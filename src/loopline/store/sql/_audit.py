"""The hash-chained audit log on SQL: appending inside the caller's transaction, reading.

Each event's hash covers its content and the previous event's hash (the rule is in
`records.audit`), so editing, deleting or reordering any event breaks every hash after it
(`loopline audit verify` finds the first). The chain is extended under the write lock the
caller's transaction holds (SQLite: BEGIN IMMEDIATE; PostgreSQL: the control-plane advisory
lock, see `_engine`), so two writers never both extend the same head, and ids grow in chain
order.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from loopline.store.records import GENESIS, AuditEvent, event_hash
from loopline.store.sql import _schema as t
from loopline.store.sql._engine import SqlRepository, lock_control


def append_audit(
    conn: sa.Connection,
    *,
    actor: str,
    action: str,
    target_kind: str,
    target_id: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    reason: str | None = None,
) -> str:
    """Write one audit event in `conn`'s transaction; returns its hash."""
    # Normally already held (CONTROL transactions take it first); taking it here too keeps the
    # chain linear for any caller that forgot, at the price of a possible lock-order wait.
    lock_control(conn)
    head = conn.execute(
        sa.select(t.audit_events.c.hash).order_by(t.audit_events.c.id.desc()).limit(1)
    ).scalar()
    prev = head or GENESIS
    event: dict[str, Any] = {
        "ts": time.time(),
        "actor": actor,
        "action": action,
        "target_kind": target_kind,
        "target_id": target_id,
        "before": dict(before) if before is not None else None,
        "after": dict(after) if after is not None else None,
        "reason": reason,
    }
    digest = event_hash(prev, event)
    conn.execute(sa.insert(t.audit_events).values(prev_hash=prev, hash=digest, **event))
    return digest


class SqlAuditStore(SqlRepository):
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


__all__ = ["SqlAuditStore", "append_audit"]
