"""The audit log's record and the rule that chains it.

Each event's hash covers its content and the previous event's hash (`event_hash`), the
first event's previous hash being `GENESIS`: editing, deleting or reordering any event
breaks every hash after it. The store appends by this rule; `loopline audit verify`
recomputes it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


def event_hash(prev_hash: str, event: Mapping[str, Any]) -> str:
    """sha256 of the previous hash and the event's canonical JSON (sorted keys)."""
    body = {
        k: event[k]
        for k in ("ts", "actor", "action", "target_kind", "target_id", "before", "after", "reason")
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


@dataclass(frozen=True)
class AuditEvent:
    id: int
    ts: float
    actor: str
    action: str
    target_kind: str
    target_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None
    prev_hash: str
    hash: str


__all__ = ["GENESIS", "AuditEvent", "event_hash"]
