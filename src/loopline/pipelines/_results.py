"""What a pipeline run returns and records: step results, progress events, and why it did
or did not promote (the tags `loopline runs show` displays)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from loopline.pipelines._cache import StoredOutput

if TYPE_CHECKING:
    from loopline.pipelines._spec import PipelineSpec


@dataclass(frozen=True)
class StepEvent:
    """Progress, for the CLI: `start`, `retry`, then the step's final status."""

    step: str
    status: str
    message: str
    index: int
    total: int
    seconds: float = 0.0


@dataclass
class StepResult:
    name: str
    kind: str
    status: (
        str  # ok | cached | loaded | failed | skipped | promoted | rejected | unchanged | deploying
    )
    seconds: float = 0.0
    attempts: int = 0
    note: str = ""
    error: str | None = None
    cached_from: str | None = None
    outputs: dict[str, StoredOutput] = field(default_factory=dict)


@dataclass
class PipelineResult:
    pipeline: str
    run_id: str
    status: str  # finished | failed
    trigger: str
    reason: str
    steps: list[StepResult]
    promotion: str = "none"
    promotion_reason: str = ""
    candidate: int | None = None

    def step(self, name: str) -> StepResult:
        return next(s for s in self.steps if s.name == name)

    @property
    def ok(self) -> bool:
        return self.status == "finished"

    def as_dict(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline,
            "run_id": self.run_id,
            "status": self.status,
            "trigger": self.trigger,
            "reason": self.reason,
            "candidate": self.candidate,
            "promotion": self.promotion,
            "promotion_reason": self.promotion_reason,
            "steps": [
                {k: v for k, v in s.__dict__.items() if k != "outputs"}
                | {"outputs": {n: o.sha256 for n, o in s.outputs.items()}}
                for s in self.steps
            ],
        }


PROMOTION_OUTCOMES = ("promoted", "rejected", "unchanged", "not_attempted", "none")


def promotion_summary(
    spec: PipelineSpec, results: Sequence[StepResult]
) -> tuple[str, str, dict[str, str]]:
    """(outcome, reason, per-environment tags) of one run.

    promoted: at least one environment took the candidate (or a rollout started) and no gate
    refused it; rejected: a gate refused it (the reason is the failing rules); unchanged: the
    candidate already held every alias; not_attempted: a step failed before any gate ran;
    none: the run had no promote step.
    """
    promotes = [r for r in results if spec.steps[r.name].uses == "promote"]
    per_env = {f"promotion.{spec.steps[r.name].to}": r.status for r in promotes}
    failed = next((r for r in results if r.status == "failed"), None)
    failure = f"step {failed.name!r} failed: {failed.error}" if failed else ""
    if not promotes:
        return "none", failure or "no promote step ran", per_env
    rejected = [r for r in promotes if r.status == "rejected"]
    moved = [r for r in promotes if r.status in ("promoted", "deploying")]
    if rejected:
        notes = [r.note for r in moved + rejected]
        return "rejected", "; ".join(notes), per_env
    if failed is not None:
        outcome = "promoted" if moved else "not_attempted"
        return outcome, "; ".join([*(r.note for r in moved), failure]), per_env
    if moved:
        return "promoted", "; ".join(r.note for r in moved), per_env
    if all(r.status in ("unchanged", "loaded") for r in promotes):
        return "unchanged", "; ".join(r.note for r in promotes if r.note), per_env
    skipped = next((r for r in promotes if r.status == "skipped"), None)
    why = f"{skipped.name} skipped: {skipped.note}" if skipped else "no environment changed"
    return "not_attempted", why, per_env


__all__ = ["PROMOTION_OUTCOMES", "PipelineResult", "StepEvent", "StepResult", "promotion_summary"]
