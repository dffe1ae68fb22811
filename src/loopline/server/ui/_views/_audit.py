"""The audit page: the audit trail, searchable, with the hash chain's verdict."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from loopline.server.ui._views._common import DIGEST_SHOWN, is_digest, utc
from loopline.store import MetadataStore

AUDIT_PER_PAGE = 50
CHANGE_ITEMS = 12  # key/value lines shown per side of a change; the rest are counted
VALUE_SHOWN = 80  # characters of one value (the whole of it in the tooltip)


def _is_time_key(key: str) -> bool:
    return key in ("at", "ts", "since", "until") or key.endswith("_at")


def _flatten(value: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted key, leaf value) pairs, so a nested change reads as `context.change.at: …`."""
    for key in sorted(value, key=str):
        item, path = value[key], f"{prefix}{key}"
        if isinstance(item, Mapping) and item:
            yield from _flatten(item, f"{path}.")
        else:
            yield path, item


def _human(key: str, value: Any) -> str:
    """A stored value as people read it: times in UTC (never epoch seconds), `none`, text."""
    leaf = key.rsplit(".", 1)[-1]
    if isinstance(value, int | float) and not isinstance(value, bool) and _is_time_key(leaf):
        return utc(float(value)) if value > 0 else "—"
    if value is None:
        return "none"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


def change_items(change: Mapping[str, Any] | None) -> dict[str, Any]:
    """One side of a change as key/value lines: each value shortened to fit (digests to
    their first characters), the full text kept for the tooltip."""
    items = []
    pairs = list(_flatten(change or {}))
    for key, value in pairs[:CHANGE_ITEMS]:
        text = _human(key, value)
        limit = DIGEST_SHOWN if is_digest(text) else VALUE_SHOWN
        shown = text if len(text) <= limit else text[:limit] + "…"
        items.append({"key": key, "text": shown, "full": text if shown != text else ""})
    return {"lines": items, "more": max(0, len(pairs) - CHANGE_ITEMS)}


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
            {"e": e, "before": change_items(e.before), "after": change_items(e.after)}
            for e in shown
        ],
        "total": len(events),
        "matches": len(hits),
        "q": q or "",
        "page": page,
        "pages": pages,
        "verdict": verdict,
    }
