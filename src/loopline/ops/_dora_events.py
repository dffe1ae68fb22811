"""The pure half of DORA: audit events → deployments, incidents and model-health KPIs.

Each function takes the events in id order (as `list_audit_events` returns them) and reads
nothing else; `loopline.ops.dora` adds the store and the weekly report.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from loopline.store import AuditEvent

FAILURE_RULES = ("slo.", "performance")  # alert rules that mean the change hurt users
DRIFT_RULES = ("data_drift", "sudden_change", "output_drift")
HOUR, DAY, WEEK = 3600.0, 86400.0, 7 * 86400.0
# Below these samples a key is counts, not a figure (docs/pipelines.md, "DORA metrics").
# Under 10 deployments one failure moves the rate by more than 10 points, wider than a band
# of DORA's own scale (0-15%, 16-30%, ...): the rate would tell the sample, not the team.
MIN_DEPLOYMENTS = 10
# The median of fewer than 5 restores is one or two incidents' own durations.
MIN_RESTORES = 5


@dataclass(frozen=True)
class Commit:
    at: float
    source: str  # commit | run_start


@dataclass(frozen=True)
class Change:
    """One deployment to production."""

    model: str
    version: int
    at: float
    via: str  # promote | rollout
    lead_time_s: float | None = None
    lead_source: str = "unknown"
    failed: bool = False
    failure: str | None = None
    failure_kind: str | None = None  # rollback | alert


@dataclass(frozen=True)
class Incident:
    model: str
    started: float
    restored: float | None
    cause: str


@dataclass(frozen=True)
class Keys:
    deployments: int
    per_week: float
    lead_time_median_h: float | None
    change_failure_rate: float | None
    time_to_restore_median_h: float | None
    incidents: int
    open_incidents: int
    lead_time_proxies: int
    failed: int = 0
    rolled_back: int = 0  # of `failed`; the others were followed by a failure alert
    restored: int = 0  # incidents with a recovery (the sample of the restore median)
    # Key → why it has no figure (counts, and the sample a figure needs): the SLO's word.
    insufficient: dict[str, str] = field(default_factory=dict)


def iso_week(ts: float) -> str:
    y, w, _ = datetime.fromtimestamp(ts, UTC).isocalendar()
    return f"{y}-W{w:02d}"


def _median(values: Iterable[float]) -> float | None:
    vals = list(values)
    return statistics.median(vals) if vals else None


def model_of(target_id: str) -> str:
    """The model an audit target names: `m@alias`, `m/3`, `m:rule#7` or `m#2`."""
    return re.split(r"[@/:#]", target_id, maxsplit=1)[0]


def _alias_target(e: AuditEvent) -> tuple[str, str]:
    model, _, alias = e.target_id.rpartition("@")
    return model, alias


def _alert_target(e: AuditEvent) -> tuple[str, str]:
    model, _, rest = e.target_id.partition(":")
    return model, rest.rpartition("#")[0]


def _is_failure_alert(e: AuditEvent, rules: Sequence[str]) -> bool:
    return e.action == "alert.fired" and _alert_target(e)[1].startswith(tuple(rules))


def changes(
    events: Sequence[AuditEvent],
    commits: Mapping[tuple[str, int], Commit],
    rollout_alias: Mapping[str, str],
    alias: str = "production",
    failure_rules: Sequence[str] = FAILURE_RULES,
) -> list[Change]:
    """Every deployment to `alias`, with its lead time and whether it failed.
    `rollout_alias` maps a deployment's audit target (`model#id`) to the alias it rolls out to."""
    found: list[tuple[Change, str | None]] = []
    for i, e in enumerate(events):
        if e.action == "deploy.start" and rollout_alias.get(e.target_id, alias) == alias:
            after = e.after or {}
            if after.get("strategy") != "shadow" and after.get("challenger") is not None:
                model = e.target_id.partition("#")[0]
                found.append(
                    (Change(model, int(after["challenger"]), e.ts, "rollout"), e.target_id)
                )
        elif e.action == "promote" and e.target_kind == "alias" and _alias_target(e)[1] == alias:
            if i > 0 and events[i - 1].action == "deploy.complete":
                continue  # the alias move that completes a rollout already counted
            model = _alias_target(e)[0]
            found.append((Change(model, int((e.after or {})["version"]), e.ts, "promote"), None))
    out = []
    for c, rollout in found:
        nxt = min((o.at for o, _ in found if o.model == c.model and o.at > c.at), default=None)
        kind, failure = _failure(events, c, rollout, alias, failure_rules, nxt) or (None, None)
        commit = commits.get((c.model, c.version))
        lead = c.at - commit.at if commit is not None and commit.at <= c.at else None
        source = commit.source if commit else "unknown"
        out.append(
            replace(
                c,
                lead_time_s=lead,
                lead_source=source,
                failed=kind is not None,
                failure=failure,
                failure_kind=kind,
            )
        )
    return out


def _failure(
    events: Sequence[AuditEvent],
    c: Change,
    rollout: str | None,
    alias: str,
    rules: Sequence[str],
    until: float | None,
) -> tuple[str, str] | None:
    """(rollback | alert, why) change `c` failed, or None: its rollout or alias was rolled
    back to an older version, or a failure alert fired for the model before the next
    deployment replaced it. A `rollback` from `c` to a newer version is the undoing of an
    earlier rollback (the newer version returns), not a failure of `c`."""
    for e in (e for e in events if e.ts >= c.at):
        if rollout is not None and e.target_id == rollout and e.action == "deploy.rollback":
            return "rollback", f"rollout rolled back: {e.reason}"
        moved_away = e.action == "rollback" and e.target_kind == "alias"
        to = (e.after or {}).get("version")
        if (
            moved_away
            and _alias_target(e) == (c.model, alias)
            and (e.before or {}).get("version") == c.version
            and not (isinstance(to, int) and to > c.version)
        ):
            return "rollback", f"rolled back to v{to}"
        in_service = until is None or e.ts < until
        if in_service and _is_failure_alert(e, rules) and _alert_target(e)[0] == c.model:
            return "alert", f"alert {_alert_target(e)[1]}: {e.reason}"
    return None


def incidents(
    events: Sequence[AuditEvent],
    alias: str = "production",
    failure_rules: Sequence[str] = FAILURE_RULES,
) -> list[Incident]:
    """Failure alerts and rollout rollbacks, with when service was restored."""
    out: list[Incident] = []
    step_at: dict[str, float] = {}
    for i, e in enumerate(events):
        if e.action in ("deploy.start", "deploy.step"):
            step_at[e.target_id] = e.ts
        if e.action == "deploy.rollback":
            # Traffic returns to the champion in the same transaction: exposure ran from the
            # rollout step that broke to this event.
            start = step_at.get(e.target_id, e.ts)
            out.append(Incident(model_of(e.target_id), start, e.ts, f"rolled back: {e.reason}"))
        if not _is_failure_alert(e, failure_rules):
            continue
        model, rule = _alert_target(e)
        restored = next(
            (
                later.ts
                for later in events[i + 1 :]
                if (later.action == "alert.resolved" and later.target_id == e.target_id)
                or (
                    later.target_kind == "alias"
                    and later.action in ("promote", "rollback")
                    and _alias_target(later) == (model, alias)
                )
            ),
            None,
        )
        out.append(Incident(model, e.ts, restored, f"alert {rule}: {e.reason}"))
    return out


def keys(
    cs: Sequence[Change],
    incs: Sequence[Incident],
    weeks: float,
    *,
    min_deployments: int = MIN_DEPLOYMENTS,
    min_restores: int = MIN_RESTORES,
) -> Keys:
    """The four keys of these deployments and incidents over `weeks`. The failure rate needs
    `min_deployments` deployments and the restore median `min_restores` restored incidents;
    below, the key is None and `insufficient` says the counts and what a figure needs."""
    restored = [i.restored - i.started for i in incs if i.restored is not None]
    failed = sum(c.failed for c in cs)
    rolled_back = sum(c.failure_kind == "rollback" for c in cs)
    open_incidents = len(incs) - len(restored)
    insufficient: dict[str, str] = {}
    if len(cs) < min_deployments:
        insufficient["change_failure_rate"] = (
            f"{_failures_text(len(cs), failed, rolled_back)}; a rate needs at least "
            f"{min_deployments} deployments in the window"
        )
    if incs and len(restored) < min_restores:
        insufficient["time_to_restore_median_h"] = (
            f"{_restores_text(len(restored), open_incidents)}; a median needs at least "
            f"{min_restores} restored incidents"
        )
    return Keys(
        deployments=len(cs),
        per_week=len(cs) / weeks if weeks > 0 else 0.0,
        lead_time_median_h=_h(_median(c.lead_time_s for c in cs if c.lead_time_s is not None)),
        change_failure_rate=failed / len(cs)
        if cs and "change_failure_rate" not in insufficient
        else None,
        time_to_restore_median_h=None
        if "time_to_restore_median_h" in insufficient
        else _h(_median(restored)),
        incidents=len(incs),
        open_incidents=open_incidents,
        lead_time_proxies=sum(c.lead_source == "run_start" for c in cs),
        failed=failed,
        rolled_back=rolled_back,
        restored=len(restored),
        insufficient=insufficient,
    )


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _failures_text(deployments: int, failed: int, rolled_back: int) -> str:
    """'3 deployments, 2 rolled back', '4 deployments, none failed', ..."""
    if not deployments:
        return "no deployments"
    parts = [_plural(deployments, "deployment")]
    if rolled_back:
        parts.append(f"{rolled_back} rolled back")
    if failed - rolled_back:
        parts.append(f"{failed - rolled_back} followed by a failure alert")
    if not failed:
        parts.append("none failed")
    return ", ".join(parts)


def _restores_text(restored: int, still_open: int) -> str:
    parts = [f"{_plural(restored, 'incident')} restored" if restored else "none restored"]
    if still_open:
        parts.append(f"{still_open} open")
    return ", ".join(parts)


def _h(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / HOUR


def health(events: Sequence[AuditEvent], cs: Sequence[Change], since: float) -> dict[str, Any]:
    """Time from drift alert to a retrained model in production, retrain cadence, and the
    share of candidates the gates rejected."""
    registered = {
        (e.target_id.rpartition("/")[0], int(e.target_id.rpartition("/")[2])): e.ts
        for e in events
        if e.action == "register"
    }
    waits, still_open = [], 0
    for e in events:
        if e.ts < since or e.action != "alert.fired" or _alert_target(e)[1] not in DRIFT_RULES:
            continue
        model = _alert_target(e)[0]
        fix = next(
            (
                c
                for c in sorted(cs, key=lambda c: c.at)
                if c.model == model
                and c.at > e.ts
                and registered.get((c.model, c.version), 0.0) > e.ts
            ),
            None,
        )
        if fix is None:
            still_open += 1
        else:
            waits.append(fix.at - e.ts)
    by_model: dict[str, list[float]] = {}
    for (model, _), ts in sorted(registered.items(), key=lambda kv: kv[1]):
        if ts >= since:
            by_model.setdefault(model, []).append(ts)
    gaps = [b - a for ts in by_model.values() for a, b in itertools.pairwise(ts)]
    last: dict[tuple[str, str], str] = {}  # (version, alias) -> its latest decision
    for e in events:
        if e.ts >= since and e.action in ("gate_passed", "gate_failed"):
            last[(e.target_id, str((e.after or {}).get("alias")))] = e.action
    candidates = {v for v, _ in last}
    rejected = {v for (v, _), action in last.items() if action == "gate_failed"}
    return {
        "drift_to_production_median_h": _h(_median(waits)),
        "drift_alerts_fixed": len(waits),
        "drift_alerts_unfixed": still_open,
        "retrains": sum(len(v) for v in by_model.values()),
        "retrain_interval_median_days": (_median(gaps) or 0.0) / DAY if gaps else None,
        "candidates_gated": len(candidates),
        "candidates_rejected": len(rejected),
        "gate_rejection_share": len(rejected) / len(candidates) if candidates else None,
    }


__all__ = [
    "DRIFT_RULES",
    "FAILURE_RULES",
    "MIN_DEPLOYMENTS",
    "MIN_RESTORES",
    "Change",
    "Commit",
    "Incident",
    "Keys",
    "changes",
    "health",
    "incidents",
    "iso_week",
    "keys",
    "model_of",
]
