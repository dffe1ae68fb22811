"""Records of rollouts: a deployment every serving replica follows, and its vocabulary."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

STRATEGIES = ("canary", "shadow", "blue_green", "ab")
DEPLOY_STATUSES = ("active", "completed", "stopped", "rolled_back")
# A controller's note of why a step waits: not a change of the rollout, so neither audited
# nor a restart of the step's clock (see `DeploymentStore.update_deployment`).
PROGRESS_ACTION = "deploy.progress"
DEPLOY_ACTIONS = (
    "deploy.step",
    "deploy.switch",
    "deploy.complete",
    "deploy.stop",
    "deploy.rollback",
    PROGRESS_ACTION,
)


@dataclass(frozen=True)
class Deployment:
    id: int
    model: str
    alias: str
    strategy: str
    champion_version: int
    challenger_version: int | None
    params: dict[str, Any]
    status: str
    step: int
    challenger_percent: float
    reason: str | None
    created_by: str
    created_at: float
    updated_at: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


__all__ = ["DEPLOY_ACTIONS", "DEPLOY_STATUSES", "PROGRESS_ACTION", "STRATEGIES", "Deployment"]
