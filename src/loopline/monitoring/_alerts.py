"""Alert rules: stored window results → findings → deduplicated alerts.

Each rule looks at the latest window (and, for its message, at when the breach began). A
finding with a severity raises the (model, rule) alert; a finding without one resolves it.
The store keeps one open alert per rule and model: a breach that lasts ten runs is one alert
with count 10, notified once — again only if it escalates (warning → critical), and once more
when it resolves.

Every alert names the most recent change before its breach began: a deployment, a promotion
(alias move) or the training dataset version, e.g. "PSI on `tenure` crossed 0.2 after
promotion of churn v7 to @production (2026-01-12 09:30 UTC)".
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from loopline.errors import NotFoundError
from loopline.monitoring._runbooks import runbook
from loopline.store import MetadataStore, ModelVersion
from loopline.store._monitoring_base import AlertChange, MonitoringStore, WindowResult

DRIFT_RULES = {"data_drift": "features", "sudden_change": "previous"}
_RANK = {"ok": 0, "insufficient": 0, "warning": 1, "critical": 2}


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str | None  # None: back in bounds (resolves an open alert)
    message: str
    context: dict[str, Any] = field(default_factory=dict)
    features: tuple[str, ...] = ()


def utc(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ts))


def _breached(verdicts: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = [(k, v) for k, v in verdicts.items() if _RANK.get(v.get("status", "ok"), 0) > 0]
    return sorted(out, key=lambda kv: (-_RANK[kv[1]["status"]], -(kv[1].get("value") or 0)))


def breach_start(history: Sequence[WindowResult], key: str, feature: str | None) -> WindowResult:
    """The first window of the current unbroken run of breaches (of `feature`, or any)."""
    first = history[-1]
    for w in reversed(history):
        verdicts = w.result.get(key) or {}
        hit = (
            _RANK.get((verdicts.get(feature) or {}).get("status", "ok"), 0) > 0
            if feature
            else bool(_breached(verdicts))
        )
        if not hit:
            break
        first = w
    return first


def last_change_before(
    store: MetadataStore, version: ModelVersion, when: float
) -> dict[str, Any] | None:
    """The most recent deployment, promotion or dataset version at or before `when`."""
    events: list[dict[str, Any]] = []
    model = version.model
    try:
        for d in store.list_deployments(model):
            v = d.challenger_version or d.champion_version
            events.append(
                {
                    "kind": "deployment",
                    "id": d.id,
                    "at": d.created_at,
                    "text": f"deployment #{d.id} ({d.strategy}) of {model} v{v}",
                }
            )
        for m in store.alias_history(model):
            verb = "promotion" if m.action == "promote" else m.action
            events.append(
                {
                    "kind": "alias_move",
                    "id": m.id,
                    "at": m.at,
                    "text": f"{verb} of {model} v{m.to_version} to @{m.alias}",
                }
            )
    except NotFoundError:  # a model not in the registry (batch files) has no history
        pass
    for use in store.run_datasets(version.run_id):
        ds = use.dataset
        events.append(
            {
                "kind": "dataset",
                "id": ds.fingerprint[:12],
                "at": ds.created_at,
                "text": f"dataset version {ds.name} {ds.fingerprint[:12]}",
            }
        )
    before = [e for e in events if e["at"] <= when]
    return max(before, key=lambda e: e["at"]) if before else None


def drift_findings(
    store: MetadataStore, version: ModelVersion, history: Sequence[WindowResult]
) -> list[Finding]:
    """data_drift, sudden_change and output_drift findings for the latest window."""
    if not history:
        return []
    latest = history[-1]
    found: list[Finding] = []
    for rule, key in DRIFT_RULES.items():
        verdicts = latest.result.get(key) or {}
        if all(v.get("status") == "insufficient" for v in verdicts.values()):
            continue  # too few rows to judge: neither raise nor resolve (no flapping)
        hits = _breached(verdicts)
        if not hits:
            found.append(Finding(rule, None, f"{rule.replace('_', ' ')} back within thresholds"))
            continue
        name, worst = hits[0]
        start = breach_start(history, key, name)
        change = last_change_before(store, version, start.end)
        what = "PSI" if worst["stat"] == "psi" else worst["stat"]
        level = worst["alert"] if worst["status"] == "critical" else worst["warn"]
        since = f" after {change['text']} ({utc(change['at'])})" if change else ""
        others = [n for n, _ in hits[1:]]
        also = f"; also {', '.join(f'`{n}`' for n in others[:5])}" if others else ""
        vs = "the previous window" if key == "previous" else "training"
        message = (
            f"{what} on `{name}` crossed {level:g} ({worst['value']:.3g} vs {vs}) in the "
            f"window from {utc(start.start)}{since}{also}"
        )
        context = {
            "window_start": latest.start,
            "breach_start": start.start,
            "features": {n: {"value": v["value"], "status": v["status"]} for n, v in hits},
            "change": change,
            "version": version.version,
        }
        names = tuple(n for n, _ in hits)
        found.append(Finding(rule, worst["status"], message, context, names))
    output = latest.result.get("output") or {}
    status = output.get("status")
    if status in ("warning", "critical"):
        message = (
            f"prediction distribution of {version.model} v{version.version} moved "
            f"({output['stat']} {output['value']:.3g} vs its first window)"
        )
        found.append(Finding("output_drift", status, message, {"output": output}))
    elif status is not None:
        found.append(Finding("output_drift", None, "prediction distribution back to normal"))
    return found


def _owner(mon: MonitoringStore, model: str) -> dict[str, str]:
    """Who answers for the model (owner team, on-call), so the alert says whom to page."""
    from loopline.errors import NotFoundError
    from loopline.store import MetadataStore

    if not isinstance(mon, MetadataStore):
        return {}
    try:
        registered = mon.get_registered_model(model)
    except NotFoundError:
        return {}
    found = {"owner_team": registered.team, "oncall": registered.oncall}
    return {k: v for k, v in found.items() if v}


def apply_findings(
    mon: MonitoringStore, uri: str, model: str, findings: Sequence[Finding], actor: str
) -> list[AlertChange]:
    """Raise or resolve one alert per finding; returns what changed (repeats included)."""
    changes: list[AlertChange] = []
    owner = _owner(mon, model) if any(f.severity is not None for f in findings) else {}
    for f in findings:
        if f.severity is None:
            change = mon.resolve_alert(model, f.rule, actor=actor, message=f.message)
        else:
            text = runbook(f.rule, uri=uri, model=model, features=", ".join(f.features))
            change = mon.raise_alert(
                model,
                f.rule,
                severity=f.severity,
                message=f.message,
                runbook=text,
                context={**f.context, "uri": uri, **owner},
                actor=actor,
            )
        if change is not None:
            changes.append(change)
    return changes


__all__ = [
    "Finding",
    "apply_findings",
    "breach_start",
    "drift_findings",
    "last_change_before",
    "utc",
]
