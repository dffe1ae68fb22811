"""The deployments area of the metadata store: rollout records every replica follows."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from loopline.store.records import Deployment


class DeploymentStore(ABC):
    """Rollouts every serving replica follows, and what replicas report back."""

    @abstractmethod
    def create_deployment(
        self,
        model: str,
        *,
        alias: str,
        strategy: str,
        champion_version: int,
        challenger_version: int | None,
        params: Mapping[str, Any],
        challenger_percent: float,
        actor: str,
    ) -> Deployment:
        """Start a rollout; refused while another rollout of the model is active."""

    @abstractmethod
    def active_deployment(self, model: str) -> Deployment | None: ...

    @abstractmethod
    def get_deployment(self, deployment_id: int) -> Deployment: ...

    @abstractmethod
    def list_deployments(self, model: str) -> list[Deployment]: ...

    @abstractmethod
    def update_deployment(
        self,
        deployment_id: int,
        *,
        expected_step: int,
        actor: str,
        action: str,
        status: str | None = None,
        step: int | None = None,
        challenger_percent: float | None = None,
        params: Mapping[str, Any] | None = None,
        reason: str | None = None,
        promote_alias: bool = False,
    ) -> Deployment | None:
        """Change an active rollout if it is still at `expected_step` (so of several
        replicas only one advances or rolls it back); None if another got there first.
        With `promote_alias`, the alias moves to the challenger in the same transaction.

        `action="deploy.progress"` is a controller's note of why the step waits: only
        `params["progress"]` is taken (kept as the params' "progress"), and it is no change
        of the rollout, so it is not audited and does not restart the step's clock."""

    @abstractmethod
    def report_swap_failure(self, model: str, version: int, *, error: str, actor: str) -> None:
        """A serving replica could not swap `version` in (audited as serving.swap_failed)."""


__all__ = ["DeploymentStore"]
