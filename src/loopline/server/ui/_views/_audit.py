"""The audit page: the audit trail, searchable, with the hash chain's verdict."""

from __future__ import annotations

import json
from typing import Any

from loopline.store import MetadataStore

AUDIT_PER_PAGE = 50


def audit_page(store: MetadataStore, q: str | None, page: int) -> dict[str, Any]:
    """Newest first; `q` matches actor, action, target or reason (case-insensitive)."""
    from loopline.ops.audit import verify_chain

    events = []
    after = 0
    while True:
        chunk = store.list_audit_events(after_id=after, limit=10_000)
        events.extend(chunk)
        if len(chunk) < 10_000:
            break
        after = chunk[-1].id
    verdict = verify_chain(events)
    needle = (q or "").strip().lower()
    if needle:
        hits = [
            e
            for e in events
            if needle
            in f"{e.actor} {e.action} {e.target_kind} {e.target_id} {e.reason or ''}".lower()
        ]
    else:
        hits = events
    hits.reverse()
    pages = max(1, -(-len(hits) // AUDIT_PER_PAGE))
    page = min(max(1, page), pages)
    shown = hits[(page - 1) * AUDIT_PER_PAGE : page * AUDIT_PER_PAGE]
    return {
        "events": [
            {
                "e": e,
                "after": json.dumps(e.after, sort_keys=True, default=str)[:300] if e.after else "",
                "before": json.dumps(e.before, sort_keys=True, default=str)[:300]
                if e.before
                else "",
            }
            for e in shown
        ],
        "total": len(events),
        "matches": len(hits),
        "q": q or "",
        "page": page,
        "pages": pages,
        "verdict": verdict,
    }
