"""The registry half of the metadata-store seam: models, versions, aliases, approvals,
gate decisions, evaluations and the audit log. Every state change writes its audit event
in the same transaction as the change."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from loopline.store._records import (
    AliasMove,
    Approval,
    AuditEvent,
    EvaluationRecord,
    GateDecisionRecord,
    ModelVersion,
    RegisteredModel,
)


class RegistryStore(ABC):
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
    ) -> ModelVersion:
        """Registers the model name on first use; versions count up from 1."""

    @abstractmethod
    def get_registered_model(self, name: str) -> RegisteredModel: ...

    @abstractmethod
    def list_registered_models(self) -> list[RegisteredModel]: ...

    @abstractmethod
    def get_version(self, model: str, version: int) -> ModelVersion: ...

    @abstractmethod
    def get_version_by_alias(self, model: str, alias: str) -> ModelVersion: ...

    @abstractmethod
    def list_versions(self, model: str) -> list[ModelVersion]: ...

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
        self, model: str, alias: str, *, actor: str, to_version: int | None, reason: str | None
    ) -> AliasMove:
        """Move `alias` back to the version it held before (or `to_version`), atomically."""

    @abstractmethod
    def alias_history(self, model: str, alias: str | None = None) -> list[AliasMove]: ...

    @abstractmethod
    def add_approval(
        self, model: str, version: int, *, approver: str, role: str, comment: str | None
    ) -> Approval: ...

    @abstractmethod
    def list_approvals(self, model: str, version: int) -> list[Approval]: ...

    @abstractmethod
    def record_gate_decision(
        self,
        model: str,
        version: int,
        *,
        alias: str,
        champion_version: int | None,
        policy: Mapping[str, Any],
        passed: bool,
        rules: list[dict[str, Any]],
        decided_by: str,
    ) -> GateDecisionRecord: ...

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
    ) -> EvaluationRecord: ...

    @abstractmethod
    def list_evaluations(self, model: str, version: int) -> list[EvaluationRecord]: ...

    @abstractmethod
    def record_event(
        self,
        *,
        actor: str,
        action: str,
        target_kind: str,
        target_id: str,
        after: Mapping[str, Any] | None = None,
        reason: str | None = None,
    ) -> None:
        """An audit event for a change that lives outside the store (serving, alerts)."""

    @abstractmethod
    def list_audit_events(self, after_id: int = 0, limit: int = 100_000) -> list[AuditEvent]: ...
