"""Appending to the hash-chained audit log, inside the caller's transaction.

Each event's hash covers its content and the previous event's hash, so editing, deleting
or reordering any event breaks every hash after it (`loopline audit verify` finds the
first). The chain is extended under the write lock the caller's transaction holds
(SQLite: BEGIN IMMEDIATE; PostgreSQL: the control-plane advisory lock, see `_engine`), so
two writers never both extend the same head, and ids grow in chain order.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from loopline.store import _schema as t
from loopline.store._engine import lock_control

GENESIS = "0" * 64


def event_hash(prev_hash: str, event: Mapping[str, Any]) -> str:
    """sha256 of the previous hash and the event's canonical JSON (sorted keys)."""
    body = {
        k: event[k]
        for k in ("ts", "actor", "action", "target_kind", "target_id", "before", "after", "reason")
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


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


__all__ = ["GENESIS", "append_audit", "event_hash"]
