"""Traffic policies: canary, A/B (champion/challenger), shadow and blue-green routers.

Splits hash the request's routing key (`bucket`), so one key always gets the same arm
(sticky A/B) and the split is exact in expectation without shared state between replicas.
"""

from __future__ import annotations

from typing import Any

from loopline.serving._router import Route, SingleRouter, TrafficRouter, bucket
from loopline.serving._slot import ModelSlot
from loopline.store import Deployment


class SplitRouter(TrafficRouter):
    """`percent` of keys to the challenger: a canary step or a champion/challenger A/B test."""

    def __init__(self, champion: ModelSlot, challenger: ModelSlot, percent: float, kind: str):
        self.champion = Route("champion", champion)
        self.challenger = Route("challenger", challenger)
        self.percent = percent
        self.kind = kind

    def route(self, key: str) -> Route:
        return self.challenger if bucket(key) * 100 < self.percent else self.champion

    def arms(self) -> dict[str, ModelSlot]:
        return {"champion": self.champion.slot, "challenger": self.challenger.slot}

    def get_params(self) -> dict[str, Any]:
        return {"strategy": self.kind, "challenger_percent": self.percent}


class ShadowRouter(TrafficRouter):
    """The champion answers; `fraction` of requests are also scored by the challenger."""

    def __init__(self, champion: ModelSlot, challenger: ModelSlot, fraction: float):
        self.with_shadow = Route("champion", champion, shadow=challenger)
        self.without = Route("champion", champion)
        self.fraction = fraction

    def route(self, key: str) -> Route:
        return self.with_shadow if bucket(key) < self.fraction else self.without

    def arms(self) -> dict[str, ModelSlot]:
        assert self.with_shadow.shadow is not None
        return {"champion": self.with_shadow.slot, "shadow": self.with_shadow.shadow}

    def get_params(self) -> dict[str, Any]:
        return {"strategy": "shadow", "fraction": self.fraction}


class BlueGreenRouter(TrafficRouter):
    """Both versions loaded and warm; all traffic to the live side, switched atomically."""

    def __init__(self, blue: ModelSlot, green: ModelSlot, live: str):
        self.routes = {"blue": Route("blue", blue), "green": Route("green", green)}
        self.live = live

    def route(self, key: str) -> Route:
        return self.routes[self.live]

    def arms(self) -> dict[str, ModelSlot]:
        return {name: r.slot for name, r in self.routes.items()}

    def get_params(self) -> dict[str, Any]:
        return {"strategy": "blue_green", "live": self.live}


def router_for(
    deployment: Deployment | None, champion: ModelSlot, challenger: ModelSlot | None
) -> TrafficRouter:
    """The router a deployment record calls for (all traffic to the champion otherwise)."""
    if deployment is None or deployment.status != "active" or challenger is None:
        return SingleRouter(champion)
    p = deployment.params
    if deployment.strategy in ("canary", "ab"):
        return SplitRouter(champion, challenger, deployment.challenger_percent, deployment.strategy)
    if deployment.strategy == "shadow":
        return ShadowRouter(champion, challenger, float(p.get("fraction", 1.0)))
    if deployment.strategy == "blue_green":
        return BlueGreenRouter(champion, challenger, str(p.get("live", "blue")))
    return SingleRouter(champion)


__all__ = ["BlueGreenRouter", "ShadowRouter", "SplitRouter", "router_for"]
