"""Verifying and exporting the hash-chained audit log.

`verify_chain` is pure: it recomputes every hash from the event's content and the
previous hash, and names the first event where the chain breaks — an edited event (its
hash no longer matches), a deleted one (the next event's prev_hash points at nothing), or
a reordered pair (ids out of order or prev_hash mismatch).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import IO

from loopline.store import (
    GENESIS,
    AuditEvent,
    MetadataStore,
    event_hash,
    open_metadata_store,
)


@dataclass(frozen=True)
class AuditVerdict:
    ok: bool
    events: int
    first_bad_id: int | None = None
    problem: str | None = None


def verify_chain(events: Sequence[AuditEvent]) -> AuditVerdict:
    prev = GENESIS
    last_id = 0
    for e in events:
        if e.id <= last_id:
            return AuditVerdict(False, len(events), e.id, f"event {e.id} is out of order")
        if e.prev_hash != prev:
            return AuditVerdict(
                False,
                len(events),
                e.id,
                f"event {e.id} does not follow the event before it "
                "(an event was deleted or reordered)",
            )
        if event_hash(prev, asdict(e)) != e.hash:
            return AuditVerdict(
                False, len(events), e.id, f"event {e.id} was edited after it was written"
            )
        prev = e.hash
        last_id = e.id
    return AuditVerdict(True, len(events))


def verify_extends(
    events: Sequence[AuditEvent], exported: Sequence[dict[str, object]]
) -> AuditVerdict:
    """Is the log still a continuation of an earlier export? A hash chain alone cannot
    tell that its newest events were deleted; a copy kept elsewhere can."""
    by_id = {e.id: e for e in events}
    for old in exported:
        current = by_id.get(int(str(old["id"])))
        if current is None:
            return AuditVerdict(
                False,
                len(events),
                int(str(old["id"])),
                f"event {old['id']} of the export is missing (the log was truncated)",
            )
        if current.hash != old["hash"]:
            return AuditVerdict(
                False, len(events), current.id, f"event {current.id} differs from the export"
            )
    return verify_chain(events)


def verify_audit(
    store: MetadataStore | None = None, against: Sequence[dict[str, object]] | None = None
) -> AuditVerdict:
    events = (store or open_metadata_store()).list_audit_events()
    return verify_chain(events) if against is None else verify_extends(events, against)


def export_audit(out: IO[str], events: Iterable[AuditEvent] | None = None) -> int:
    """Write events as JSON Lines (one event per line); returns how many."""
    n = 0
    for e in events if events is not None else open_metadata_store().list_audit_events():
        out.write(json.dumps(asdict(e), sort_keys=True, default=str) + "\n")
        n += 1
    return n


__all__ = ["AuditVerdict", "export_audit", "verify_audit", "verify_chain", "verify_extends"]
