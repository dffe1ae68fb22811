"""The registry area of the metadata store: models, versions, aliases, approvals, gate
decisions, evaluations and alias policies. Every state change writes its audit event in
the same transaction as the change."""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from loopline._renamed import LooplineDeprecationWarning
from loopline.store.records import (
    AliasMove,
    AliasPolicy,
    Approval,
    EvaluationRecord,
    GateDecisionRecord,
    ModelVersion,
    RegisteredModel,
)

# `list_versions` pages: the newest VERSIONS_PAGE by default, at most MAX_VERSIONS_PAGE per
# call over REST (a remote client asked for every version fetches them a page at a time).
VERSIONS_PAGE = 50
MAX_VERSIONS_PAGE = 1_000


class RegistryStore(ABC):
    """Registered models and their versions, aliases and the evidence that moves them."""

    @abstractmethod
    def create_version(
        self,
        model: str,
        *,
        run_id: str,
        artifact_path: str,
        sha256: str,
        flavor: str,
        signature: Mapping[str, Any] | None,
        metrics: Mapping[str, float],
        git_commit: str | None,
        created_by: str,
        card: Mapping[str, Any],
        creator_role: str = "unknown",
    ) -> ModelVersion:
        """Registers the model name on first use; versions count up from 1."""

    @abstractmethod
    def get_model(self, model: str) -> RegisteredModel: ...

    @abstractmethod
    def list_models(self) -> list[RegisteredModel]:
        """Every registered model, by name."""

    # Last release's names (docs/vocabulary.md §6): they answer one more release, with a
    # LooplineDeprecationWarning. Not operations: nothing serves them, every store has them.
    def get_registered_model(self, name: str) -> RegisteredModel:
        """Deprecated: `get_model(model)`."""
        _renamed_method("get_registered_model", "get_model")
        return self.get_model(name)

    def list_registered_models(self) -> list[RegisteredModel]:
        """Deprecated: `list_models()`."""
        _renamed_method("list_registered_models", "list_models")
        return self.list_models()

    @abstractmethod
    def get_version(self, model: str, version: int) -> ModelVersion: ...

    @abstractmethod
    def get_version_by_alias(self, model: str, alias: str) -> ModelVersion: ...

    @abstractmethod
    def list_versions(
        self, model: str, limit: int | None = VERSIONS_PAGE, before: int | None = None
    ) -> list[ModelVersion]:
        """Newest first: at most `limit` versions (1 to 1,000; None: every version), those
        numbered below `before` if given. The next (older) page: `before=page[-1].version`.
        A version-number cursor, not an offset: registering new versions while paging
        neither skips nor repeats one."""

    @abstractmethod
    def update_card(
        self, model: str, version: int, card: Mapping[str, Any], actor: str
    ) -> ModelVersion: ...

    @abstractmethod
    def move_alias(
        self,
        model: str,
        alias: str,
        version: int,
        *,
        actor: str,
        action: str,
        reason: str | None = None,
        gate_decision_id: int | None = None,
    ) -> AliasMove:
        """Point `alias` at `version` (one transaction: alias, history, audit event)."""

    @abstractmethod
    def rollback_alias(
        self, model: str, alias: str, *, actor: str, version: int | None, reason: str | None
    ) -> AliasMove:
        """Move `alias` back to the version it held before (or to `version`), atomically.
        (`to_version=`, last release's name of `version=`, works one more release.)"""

    @abstractmethod
    def alias_history(self, model: str, alias: str | None = None) -> list[AliasMove]: ...

    @abstractmethod
    def add_approval(
        self, model: str, version: int, *, approver: str, role: str, comment: str | None
    ) -> Approval: ...

    @abstractmethod
    def list_approvals(self, model: str, version: int) -> list[Approval]: ...

    @abstractmethod
    def set_alias_policy(
        self, model: str, alias: str, *, policy: Mapping[str, Any], actor: str
    ) -> AliasPolicy:
        """Register `policy` as the gate of `alias` for `model` (a new revision, audited).
        A registered alias is protected: it moves only through the promotion protocol."""

    @abstractmethod
    def get_alias_policy(self, model: str, alias: str) -> AliasPolicy:
        """The policy in force for `model@alias` (production's built-in default if none)."""

    @abstractmethod
    def record_gate_decision(
        self,
        model: str,
        version: int,
        *,
        alias: str,
        decided_by: str,
        policy: Mapping[str, Any] | None = None,
        dataset_fingerprint: str | None = None,
        decider_role: str = "unknown",
    ) -> GateDecisionRecord:
        """Run the gate in the store and record its decision (audited, pass or fail).

        The store gathers the evidence itself: evaluations (preferring the ones on
        `dataset_fingerprint`), validation tags and approvals (distinct canonical users,
        never the author). For a protected alias the policy is the registered one and only
        trusted evidence counts; a different `policy` is registered first, in the same
        transaction, if the decider may write policies (approver, admin), else refused.
        """

    @abstractmethod
    def list_gate_decisions(self, model: str, version: int) -> list[GateDecisionRecord]: ...

    @abstractmethod
    def record_evaluation(
        self,
        model: str,
        version: int,
        *,
        dataset_fingerprint: str,
        task: str,
        metrics: Mapping[str, float],
        slices: Mapping[str, Any],
        recorded_by: str = "unknown",
        recorder_role: str = "unknown",
    ) -> EvaluationRecord:
        """Store an evaluation with its provenance (who recorded it, in which role)."""

    @abstractmethod
    def list_evaluations(self, model: str, version: int) -> list[EvaluationRecord]: ...


def _renamed_method(old: str, new: str) -> None:
    warnings.warn(
        f"{old}() is deprecated and goes in the next release; call {new}() instead",
        LooplineDeprecationWarning,
        stacklevel=3,  # 1 is this line, 2 the old method, 3 its caller's line
    )


__all__ = ["MAX_VERSIONS_PAGE", "VERSIONS_PAGE", "RegistryStore"]
