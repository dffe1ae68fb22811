"""Promotion: run the gate against the alias's current holder, record the decision, and
move the alias only if the gate passed. Both the decision and the move are audited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loopline.config import current_user
from loopline.errors import ConflictError, NotFoundError
from loopline.gates._policy import GateDecision, GatePolicy, PromotionGate
from loopline.registry import evaluate_version, load_model, read_table
from loopline.store import AliasMove, MetadataStore, ModelVersion, open_metadata_store
from loopline.store._sql_registry import check_alias


@dataclass(frozen=True)
class PromotionResult:
    candidate: ModelVersion
    champion: ModelVersion | None
    alias: str
    decision: GateDecision
    decision_id: int
    move: AliasMove | None  # None when the gate refused

    @property
    def promoted(self) -> bool:
        return self.move is not None


def _holder(store: MetadataStore, name: str, alias: str) -> ModelVersion | None:
    try:
        return store.get_version_by_alias(name, alias)
    except NotFoundError:
        return None


def _evidence(store: MetadataStore, v: ModelVersion, fingerprint: str | None) -> dict[str, float]:
    """Metrics to judge `v` by: its evaluation on `fingerprint` if any, else its latest
    evaluation, else the metrics its training run logged."""
    evals = store.list_evaluations(v.model, v.version)
    same = [e for e in evals if e.dataset_fingerprint == fingerprint]
    chosen = same or evals
    return dict(chosen[-1].metrics) if chosen else dict(v.metrics)


def _policy(policy: GatePolicy | str | Path | None) -> GatePolicy:
    if policy is None:
        return GatePolicy()
    return policy if isinstance(policy, GatePolicy) else GatePolicy.from_yaml(policy)


def promote(
    name: str,
    version: int,
    to: str = "production",
    *,
    policy: GatePolicy | str | Path | None = None,
    data: Any = None,
    target: str | None = None,
    slices: Sequence[str] = (),
    reason: str | None = None,
) -> PromotionResult:
    """Gate `name/version` against the holder of alias `to`; move the alias if it passes.

    With `data` (and `target`), candidate and champion are both evaluated on that same
    hold-out data first; otherwise their stored evaluations (or training metrics) are used.
    """
    check_alias(to)
    store = open_metadata_store()
    gate = PromotionGate(_policy(policy))
    candidate = store.get_version(name, version)
    champion = _holder(store, name, to)
    if champion is not None and champion.version == version:
        raise ConflictError(
            f"{name}@{to} already points at version {version}", hint="nothing to do"
        )
    # Refuse a version whose files no longer match their sha256 before deciding anything.
    model = load_model(candidate.uri)
    fingerprint = None
    if data is not None:
        if target is None:
            raise ConflictError("--data needs --target", hint="name the label column")
        frame = read_table(data)
        fingerprint = evaluate_version(
            candidate, model, frame, target, slices
        ).record.dataset_fingerprint
        if champion is not None:
            evaluate_version(champion, load_model(champion.uri), frame, target, slices)
    cand_metrics = _evidence(store, candidate, fingerprint)
    if fingerprint is None and champion is not None:
        latest = store.list_evaluations(name, version)
        fingerprint = latest[-1].dataset_fingerprint if latest else None
    champ_metrics = _evidence(store, champion, fingerprint) if champion is not None else None
    run = store.get_run(candidate.run_id)
    validation = {k: v for k, v in run.tags.items() if k.startswith("validation.")}
    approvals = [(a.approver, a.role) for a in store.list_approvals(name, version)]
    decision = gate.decide(cand_metrics, champ_metrics, validation=validation, approvals=approvals)
    actor = current_user()
    record = store.record_gate_decision(
        name,
        version,
        alias=to,
        champion_version=champion.version if champion else None,
        policy=decision.policy,
        passed=decision.passed,
        rules=[r.to_dict() for r in decision.results],
        decided_by=actor,
    )
    move = None
    if decision.passed:
        move = store.move_alias(
            name,
            to,
            version,
            actor=actor,
            action="promote",
            reason=reason,
            gate_decision_id=record.id,
        )
    return PromotionResult(candidate, champion, to, decision, record.id, move)


__all__ = ["PromotionResult", "promote"]
