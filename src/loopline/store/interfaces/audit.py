"""The audit area of the metadata store: reading the hash-chained log.

Nothing appends through this interface: every state change of the other areas appends its
own event in the transaction of the change (see `loopline.store.records.audit` for the
chain rule)."""

from __future__ import annotations

from abc import ABC, abstractmethod

from loopline.store.records import AuditEvent


class AuditStore(ABC):
    @abstractmethod
    def list_audit_events(self, after_id: int = 0, limit: int = 100_000) -> list[AuditEvent]:
        """Events in chain order, those with an id above `after_id`, at most `limit`."""


__all__ = ["AuditStore"]
