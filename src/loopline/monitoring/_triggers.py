"""Retrain triggers: a policy over stored window results → a recorded retrain request.

Default policy: `retrain when psi(any feature) > 0.2 for 2 windows` (key features can be
named instead of "any"), plus optional performance minimums such as `auc < 0.80`. A trigger
records a `retrain.requested` audit event and a pending request the pipelines runner picks up;
while that request is pending, later triggers find it and ask nothing more, so the trigger
fires once, not on every run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from loopline.errors import InvalidInputError
from loopline.store import ModelVersion, MonitoringStore, RetrainRequest, WindowResult


@dataclass(frozen=True)
class RetrainPolicy:
    enabled: bool = True
    psi: float | None = 0.2
    windows: int = 2
    features: tuple[str, ...] | None = None  # None: any monitored feature
    min: dict[str, float] = field(default_factory=dict)  # e.g. {"auc": 0.8}

    @classmethod
    def parse(cls, spec: Mapping[str, Any] | None) -> RetrainPolicy:
        spec = dict(spec or {})
        unknown = set(spec) - set(cls.__dataclass_fields__)
        if unknown:
            raise InvalidInputError(
                f"unknown retrain policy setting(s): {', '.join(sorted(unknown))}",
                hint="use enabled, psi, windows, features, min",
            )
        if "features" in spec and spec["features"] is not None:
            spec["features"] = tuple(spec["features"])
        policy = cls(**spec)
        if policy.windows < 1:
            raise InvalidInputError("retrain windows must be at least 1", hint="e.g. windows=2")
        return policy

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["features"] = list(self.features) if self.features is not None else None
        return d


def _judged(w: WindowResult) -> bool:
    features = w.result.get("features") or {}
    return any(f.get("status") not in (None, "insufficient") for f in features.values())


def retrain_reason(
    history: Sequence[WindowResult], policy: RetrainPolicy
) -> tuple[str, dict[str, Any]] | None:
    """Why the policy asks for retraining now, or None."""
    if not policy.enabled:
        return None
    judged = [w for w in history if _judged(w)]
    if policy.psi is not None and len(judged) >= policy.windows:
        last = judged[-policy.windows :]
        names = policy.features or tuple((last[-1].result.get("features") or {}).keys())
        for name in names:
            verdicts = [(w.result.get("features") or {}).get(name) or {} for w in last]
            values = [v.get("psi") for v in verdicts]
            # Over the threshold *and* more than noise (the verdict's significance check on
            # small windows), in every one of the last windows.
            if all(
                p is not None and p > policy.psi and v.get("significant", False)
                for p, v in zip(values, verdicts, strict=True)
            ):
                shown = ", ".join(f"{v:.3g}" for v in values if v is not None)
                n = policy.windows
                reason = (
                    f"psi(`{name}`) > {policy.psi:g} for {n} window{'s' if n > 1 else ''} ({shown})"
                )
                context = {"feature": name, "psi": values, "windows": [w.start for w in last]}
                return reason, context
    metrics = (
        ((history[-1].result.get("performance") or {}).get("metrics") or {}) if history else {}
    )
    for name, bound in policy.min.items():
        value = metrics.get(name)
        if value is not None and value < bound:
            return f"performance.{name} {value:.3g} < {bound:g}", {"metric": name, "value": value}
    return None


def trigger_retrain(
    mon: MonitoringStore,
    version: ModelVersion,
    history: Sequence[WindowResult],
    policy: RetrainPolicy,
    *,
    actor: str,
    alert_id: int | None = None,
) -> tuple[RetrainRequest, bool] | None:
    """(request, created) when the policy fires; None when it does not."""
    why = retrain_reason(history, policy)
    if why is None:
        return None
    reason, context = why
    return mon.request_retrain(
        version.model,
        version.version,
        reason=reason,
        context={**context, "policy": policy.as_dict()},
        alert_id=alert_id,
        actor=actor,
    )


__all__ = ["RetrainPolicy", "retrain_reason", "trigger_retrain"]
