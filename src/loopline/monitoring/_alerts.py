"""Alert rules: stored window results → findings → deduplicated alerts.

Each rule looks at the latest window (and, for its message, at when the breach began). A
finding with a severity raises the (model, rule) alert; a finding without one resolves it.
The store keeps one open alert per rule and model: a breach that lasts ten runs is one alert
with count 10, notified once — again only if it escalates (warning → critical), and once more
when it resolves.

Column signals (`_signals`: null rate, all null, constant, vanished and new columns) raise one
alert per signal and column, rule `SIGNAL:COLUMN` (e.g. `all_null:total_charges`), so a column
that goes all null is one alert however many windows or runs see it. A drift verdict that a
column signal explains (`explained_by`: the column vanished, went all null or constant) is
not alerted again as data drift or sudden change.

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
from loopline.monitoring._signals import SIGNALS, breached, explaining
from loopline.store import (
    AlertChange,
    MetadataStore,
    ModelVersion,
    MonitoringStore,
    WindowResult,
)

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


def span(seconds: float) -> str:
    """A window's length as the `--window` option spells it: 15m, 6h, 1d, 1w."""
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def window_text(window: WindowResult, since: WindowResult | None = None) -> str:
    """`the 1h window 2026-01-05 03:00 to 04:00 UTC`, and when a breach that began in an
    earlier window of that length began: the window judged, not the first one."""
    start, end = time.gmtime(window.start), time.gmtime(window.end)
    last = "%H:%M" if start[:3] == end[:3] else "%Y-%m-%d %H:%M"
    text = (
        f"the {span(window.end - window.start)} window "
        f"{time.strftime('%Y-%m-%d %H:%M', start)} to {time.strftime(last, end)} UTC"
    )
    if since is not None and since.start < window.start:
        text += f" (breaching since {utc(since.start)})"
    return text


def _same_length(a: WindowResult, b: WindowResult) -> bool:
    return abs((a.end - a.start) - (b.end - b.start)) < 1e-6


def _run_back(history: Sequence[WindowResult]) -> list[WindowResult]:
    """The latest window and the ones before it of the same length, newest first; a window
    of another length (from before `--window` changed) or overlapping one ends the run."""
    run = [history[-1]]
    for w in reversed(history[:-1]):
        if not _same_length(w, run[-1]) or w.end > run[-1].start + 1e-6:
            break
        run.append(w)
    return run


def _ordered(history: Sequence[WindowResult]) -> list[WindowResult]:
    """By start, and the most recently computed last: after `--window` changes, the stored
    history holds windows of both lengths, and the latest is the one this run judged."""
    return sorted(history, key=lambda w: (w.start, w.computed_at))


def _hit(verdict: dict[str, Any]) -> bool:
    """Breached, and not explained by a column signal (which alerts for it)."""
    return _RANK.get(verdict.get("status", "ok"), 0) > 0 and not verdict.get("explained_by")


def _breached(verdicts: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = [(k, v) for k, v in verdicts.items() if _hit(v)]
    return sorted(out, key=lambda kv: (-_RANK[kv[1]["status"]], -(kv[1].get("value") or 0)))


def breach_start(history: Sequence[WindowResult], key: str, feature: str | None) -> WindowResult:
    """The first window of the current unbroken run of breaches (of `feature`, or any),
    among the windows of the latest one's length that follow each other."""
    first = history[-1]
    for w in _run_back(history):
        verdicts = w.result.get(key) or {}
        hit = _hit(verdicts.get(feature) or {}) if feature else bool(_breached(verdicts))
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
    history = _ordered(history)
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
            f"{what} on `{name}` crossed {level:g} ({worst['value']:.3g} vs {vs}) in "
            f"{window_text(latest, start)}{since}{also}"
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
            f"({output['stat']} {output['value']:.3g} vs its first window) in {window_text(latest)}"
        )
        found.append(Finding("output_drift", status, message, {"output": output}))
    elif status is not None:
        found.append(Finding("output_drift", None, "prediction distribution back to normal"))
    return found


def signal_rule(signal: str, column: str) -> str:
    """The alert rule of one column signal (the store keeps rules to 128 characters)."""
    return f"{signal}:{column}"[:128]


def _pct(v: Any) -> str:
    return f"{float(v):.1%}" if isinstance(v, int | float) else "?"


def _signal_text(signal: str, column: str, sig: dict[str, Any]) -> str:
    if signal == "null_rate":
        return (
            f"null rate of `{column}` rose to {_pct(sig.get('value'))} from "
            f"{_pct(sig.get('reference'))} in training ({sig.get('nulls')} of {sig.get('n')} "
            f"rows; p = {sig.get('pvalue', 0):.2g})"
        )
    if signal == "all_null":
        return (
            f"`{column}` became all null ({sig.get('n')} of {sig.get('n')} rows; "
            f"{_pct(sig.get('reference'))} null in training)"
        )
    if signal == "constant":
        return (
            f"`{column}` became constant ({sig.get('value')!r} in all {sig.get('n')} non-null "
            f"rows; {sig.get('reference_distinct')} distinct values in training)"
        )
    if signal == "vanished_column":
        return f"column `{column}` of the model's inputs is missing from the monitored rows"
    return (
        f"new column `{column}` in the monitored rows ({sig.get('n')} values): not in the "
        "model signature or the training data"
    )


def _signal_start(history: Sequence[WindowResult], signal: str, column: str) -> WindowResult:
    first = history[-1]
    for w in _run_back(history):
        sig = ((w.result.get("signals") or {}).get(column) or {}).get(signal)
        if not breached(sig) or (sig or {}).get("explained_by"):
            break
        first = w
    return first


def signal_findings(
    store: MetadataStore,
    version: ModelVersion,
    history: Sequence[WindowResult],
    open_rules: Sequence[str] = (),
) -> list[Finding]:
    """One finding per breached column signal of the latest window (rule `SIGNAL:COLUMN`), and
    a resolving one for each open signal alert the latest window no longer breaches. A signal
    too few rows could judge, or explained by another signal of its column, neither raises
    nor resolves."""
    if not history:
        return []
    history = _ordered(history)
    latest = history[-1]
    signals: dict[str, Any] = latest.result.get("signals") or {}
    found: list[Finding] = []
    raised: set[str] = set()
    for column, sigs in sorted(signals.items()):
        for signal in SIGNALS:
            sig = (sigs or {}).get(signal) or {}
            if not breached(sig) or sig.get("explained_by"):
                continue
            start = _signal_start(history, signal, column)
            change = last_change_before(store, version, start.end)
            since = f" after {change['text']} ({utc(change['at'])})" if change else ""
            message = f"{_signal_text(signal, column, sig)} in {window_text(latest, start)}{since}"
            context = {
                "signal": signal,
                "column": column,
                "window_start": latest.start,
                "breach_start": start.start,
                "details": sig,
                "change": change,
                "version": version.version,
            }
            rule = signal_rule(signal, column)
            raised.add(rule)
            found.append(Finding(rule, sig["status"], message, context, (column,)))
    for rule in open_rules:
        signal, sep, column = rule.partition(":")
        if not sep or signal not in SIGNALS or rule in raised:
            continue
        sigs = signals.get(column) or {}
        sig = sigs.get(signal)
        cause = explaining(sigs)
        if (sig is not None and sig.get("status") == "insufficient") or cause not in (None, signal):
            continue  # cannot tell, or another signal of the column covers it: no flapping
        what = signal.replace("_", " ")
        found.append(Finding(rule, None, f"{what} on `{column}` back to normal", {}, (column,)))
    return found


def _owner(mon: MonitoringStore, model: str) -> dict[str, str]:
    """Who answers for the model (owner team, on-call), so the alert says whom to page."""
    from loopline.errors import NotFoundError
    from loopline.store import MetadataStore

    if not isinstance(mon, MetadataStore):
        return {}
    try:
        registered = mon.get_model(model)
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
            kind = f.rule.partition(":")[0] if ":" in f.rule else f.rule
            text = runbook(kind, uri=uri, model=model, features=", ".join(f.features))
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
    "signal_findings",
    "signal_rule",
    "utc",
]
