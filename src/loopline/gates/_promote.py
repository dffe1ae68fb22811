"""Promotion: run the gate against the alias's current holder, record the decision, and
move the alias only if the gate passed. Both the decision and the move are audited."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loopline._renamed import renamed_keywords
from loopline.config import current_user
from loopline.errors import ConflictError, NotFoundError
from loopline.policy import (
    CHAMPION,
    GateDecision,
    GatePolicy,
    RuleResult,
    UnknownMetricError,
    parse_rule,
)
from loopline.registry import (
    compute_evaluation,
    evaluate_version,
    load_model,
    read_table,
    store_evaluation,
    verify_version,
)
from loopline.store import (
    AliasMove,
    GateDecisionRecord,
    MetadataStore,
    ModelVersion,
    check_alias,
    open_metadata_store,
)


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


def _holder(store: MetadataStore, model: str, alias: str) -> ModelVersion | None:
    try:
        return store.get_version_by_alias(model, alias)
    except NotFoundError:
        return None


def _policy(policy: GatePolicy | str | Path | None) -> GatePolicy | None:
    if policy is None:
        return None
    return policy if isinstance(policy, GatePolicy) else GatePolicy.from_yaml(policy)


def _in_force(store: MetadataStore, model: str, alias: str) -> GatePolicy:
    return GatePolicy.from_params(store.get_alias_policy(model, alias).policy)


def _check_metric_names(policy: GatePolicy, metrics: Mapping[str, float]) -> None:
    """Refuse a rule naming a metric the evaluation does not produce."""
    for text in policy.rules:
        for name in sorted(parse_rule(text).names):
            key = name.removeprefix(CHAMPION)
            if key not in metrics:
                raise UnknownMetricError(
                    text, key, sorted(metrics), champion=name.startswith(CHAMPION)
                )


def as_decision(record: GateDecisionRecord) -> GateDecision:
    """The store's recorded decision as the gate's `GateDecision` (for reports)."""
    return GateDecision(record.passed, tuple(RuleResult(**r) for r in record.rules), record.policy)


@renamed_keywords(name="model")
def run_gate(
    store: MetadataStore,
    model: str,
    version: int,
    alias: str,
    policy: GatePolicy | str | Path | None = None,
    *,
    dataset_fingerprint: str | None = None,
) -> GateDecisionRecord:
    """Ask the store to run the gate of `alias` on `model/version` and record the decision.

    The store decides, on the evidence it holds. A protected alias is gated by its
    registered policy: passing a different `policy` registers it in the same transaction
    (approver or admin only, audited as `policy.set`), so a policy file stays the way to
    change a gate.
    """
    wanted = _policy(policy)
    return store.record_gate_decision(
        model,
        version,
        alias=alias,
        decided_by=current_user(),
        policy=wanted.to_dict() if wanted is not None else None,
        dataset_fingerprint=dataset_fingerprint,
    )


# `name=` and `to=` were last release's keywords (docs/vocabulary.md §6, §7).
@renamed_keywords(name="model", to="alias")
def promote(
    model: str,
    version: int,
    alias: str = "production",
    *,
    policy: GatePolicy | str | Path | None = None,
    data: Any = None,
    target: str | None = None,
    slices: Sequence[str] = (),
    reason: str | None = None,
    move: bool = True,
) -> PromotionResult:
    """Gate `model/version` against the holder of `alias`; move the alias if it passes
    (with `move=False`, only record the decision: see `gate`).

    With `data` (and `target`), candidate and champion are both evaluated on that same
    hold-out data first; otherwise their stored evaluations (or, for an unprotected alias,
    training metrics) are used. The store runs the gate and refuses any move it has not
    cleared (see docs/server.md, "Promotion protocol").
    """
    check_alias(alias)
    store = open_metadata_store()
    candidate = store.get_version(model, version)
    champion = _holder(store, model, alias)
    if champion is not None and champion.version == version:
        raise ConflictError(
            f"{model}@{alias} already points at version {version}", hint="nothing to do"
        )
    # Refuse a version whose files no longer match their sha256 before deciding anything;
    # nothing is deserialized for this check.
    verify_version(candidate)
    fingerprint = None
    if data is not None:
        if target is None:
            raise ConflictError("--data needs --target", hint="name the label column")
        frame = read_table(data)
        task, metrics, per_slice = compute_evaluation(
            load_model(candidate.uri), frame, target, slices
        )
        # A refused call writes nothing: check the rules' metrics before storing anything.
        _check_metric_names(_policy(policy) or _in_force(store, model, alias), metrics)
        fingerprint = store_evaluation(
            candidate, frame, task, metrics, per_slice
        ).record.dataset_fingerprint
        if champion is not None:
            evaluate_version(champion, load_model(champion.uri), frame, target, slices)
    record = run_gate(store, model, version, alias, policy, dataset_fingerprint=fingerprint)
    moved = None
    if record.passed and move:
        moved = store.move_alias(
            model,
            alias,
            version,
            actor=current_user(),
            action="promote",
            reason=reason,
            gate_decision_id=record.id,
        )
    return PromotionResult(candidate, champion, alias, as_decision(record), record.id, moved)


@renamed_keywords(name="model", to="alias")
def gate(
    model: str,
    version: int,
    alias: str = "production",
    *,
    policy: GatePolicy | str | Path | None = None,
    data: Any = None,
    target: str | None = None,
    slices: Sequence[str] = (),
) -> PromotionResult:
    """Run and record the gate of `alias` for `model/version` without moving the alias: how
    an approver clears a version for a rollout (canary, blue-green, A/B) that an ml-engineer
    then starts; the store checks that decision when the rollout starts and completes."""
    return promote(
        model, version, alias, policy=policy, data=data, target=target, slices=slices, move=False
    )


__all__ = ["PromotionResult", "as_decision", "gate", "promote", "run_gate"]
