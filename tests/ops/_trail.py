"""Audit trails built by hand for the DORA tests: events the way the store writes them."""

from __future__ import annotations

from typing import Any

from loopline.store import AuditEvent

H, D = 3600.0, 86400.0
T0 = 1_767_225_600.0  # 2026-01-01 00:00 UTC


class Trail:
    """Audit events built the way the store writes them (ids in order)."""

    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    def add(
        self,
        at: float,
        action: str,
        kind: str,
        target: str,
        *,
        before: Any = None,
        after: Any = None,
        reason: str | None = None,
    ) -> Trail:
        n = len(self.events) + 1
        self.events.append(
            AuditEvent(n, T0 + at, "me", action, kind, target, before, after, reason, "", "")
        )
        return self

    def promote(
        self, at: float, model: str, alias: str, version: int, prev: int | None = None
    ) -> Trail:
        before = {"version": prev} if prev else None
        return self.add(
            at, "promote", "alias", f"{model}@{alias}", before=before, after={"version": version}
        )

    def rollback(self, at: float, model: str, version: int, to: int) -> Trail:
        """`@production` moved back from `version` to `to` (an alias rollback)."""
        return self.add(
            at,
            "rollback",
            "alias",
            f"{model}@production",
            before={"version": version},
            after={"version": to},
        )


def demo_trail() -> Trail:
    """What `make demo` records: v1 promoted, v2 refused by its gate (no move), v3 promoted,
    rolled back to v1 and forward again, then v4 promoted by the drift retrain."""
    t = Trail()
    t.promote(1 * H, "churn", "production", 1)
    t.promote(2 * H, "churn", "production", 3, prev=1)
    t.rollback(3 * H, "churn", 3, to=1)
    t.rollback(4 * H, "churn", 1, to=3)  # forward again: v3 returns
    t.promote(5 * H, "churn", "production", 4, prev=3)
    return t
