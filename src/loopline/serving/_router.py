"""The traffic-router seam: which model answers a request, and which one shadows it.

`route(key)` is called once per request with a stable request key (a client-provided
routing key for sticky A/B splits, else the request id). Routers are configured by
constructor only and report their configuration with `get_params()`, so a deployment's
traffic policy can be printed, diffed and written to the audit log.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from loopline.serving._slot import ModelSlot


@dataclass(frozen=True)
class Route:
    arm: str  # name of the arm that answers: "champion", "challenger", "blue", "green"
    slot: ModelSlot
    shadow: ModelSlot | None = None  # scored too, captured, never returned


def bucket(key: str) -> float:
    """A stable number in [0, 1) for a key: the same key always lands in the same arm."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class TrafficRouter(ABC):
    @abstractmethod
    def route(self, key: str) -> Route: ...

    @abstractmethod
    def arms(self) -> dict[str, ModelSlot]:
        """Every slot this router can send traffic to, by arm name."""

    @abstractmethod
    def get_params(self) -> dict[str, Any]: ...


class SingleRouter(TrafficRouter):
    """All traffic to one model."""

    def __init__(self, slot: ModelSlot, arm: str = "champion") -> None:
        self._route = Route(arm, slot)
        self.arm = arm

    def route(self, key: str) -> Route:
        return self._route

    def arms(self) -> dict[str, ModelSlot]:
        return {self.arm: self._route.slot}

    def get_params(self) -> dict[str, Any]:
        return {"strategy": "single", "uri": self._route.slot.uri}


__all__ = ["Route", "SingleRouter", "TrafficRouter", "bucket"]
