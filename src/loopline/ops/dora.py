"""DORA's four keys and model-health KPIs, computed from the audit trail.

Pure functions over lists of audit events; `dora_report` is the edge that reads the store.

- Deployment: a version reaching `@production` — a `promote` move of the alias, or a rollout
  started against it (`deploy.start`, shadow excluded: it never answers); a completed
  rollout's alias move is that rollout, not a second deployment.
- Lead time for changes: commit time of the version's training run → its deployment. The
  candidate runs of pipelines record `git.commit_time`; otherwise the run's start time is the
  proxy (the report says how many used it).
- Change failure rate: deployments rolled back (alias `rollback` away from the version to an
  older one, or `deploy.rollback` of the rollout) or followed, while the version served, by an
  alert on a failure rule (SLO or performance). Below `MIN_DEPLOYMENTS` (10) deployments it is
  None and `Keys.insufficient` gives the counts instead.
- Time to restore: from that alert (or the rollout step that broke) to recovery — the alert
  resolved, or the alias moved on, whichever came first. Its median needs `MIN_RESTORES` (5)
  restored incidents, the same way.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from loopline.ops._dora_events import (
    DAY,
    DRIFT_RULES,
    FAILURE_RULES,
    MIN_DEPLOYMENTS,
    MIN_RESTORES,
    WEEK,
    Change,
    Commit,
    Incident,
    Keys,
    changes,
    health,
    incidents,
    iso_week,
    keys,
    model_of,
)
from loopline.store import AuditEvent, MetadataStore


@dataclass
class DoraReport:
    since: float
    until: float
    overall: Keys
    per_model: dict[str, Keys]
    weeks: list[dict[str, Any]]
    health: dict[str, Any]
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["per_model"] = {m: asdict(k) for m, k in self.per_model.items()}
        return d


def summarize(
    events: Sequence[AuditEvent],
    commits: Mapping[tuple[str, int], Commit],
    rollout_alias: Mapping[str, str],
    since: float,
    until: float,
    model: str | None = None,
) -> DoraReport:
    """The whole report from events (pure: the store is read by `dora_report`)."""
    all_changes = changes(events, commits, rollout_alias)
    cs = [c for c in all_changes if since <= c.at <= until and model in (None, c.model)]
    incs = [
        i for i in incidents(events) if since <= i.started <= until and model in (None, i.model)
    ]
    span = max((until - since) / WEEK, 1 / 7)
    per_model = {
        m: keys([c for c in cs if c.model == m], [i for i in incs if i.model == m], span)
        for m in sorted({c.model for c in cs} | {i.model for i in incs})
    }
    weeks = []
    for week in sorted({iso_week(c.at) for c in cs} | {iso_week(i.started) for i in incs}):
        wk = keys(
            [c for c in cs if iso_week(c.at) == week],
            [i for i in incs if iso_week(i.started) == week],
            1.0,
        )
        weeks.append({"week": week, **asdict(wk)})
    scoped = [e for e in events if model in (None, model_of(e.target_id))]
    notes = []
    proxies = sum(c.lead_source == "run_start" for c in cs)
    if proxies:
        notes.append(
            f"lead time of {proxies} of {len(cs)} deployments uses the training run's "
            "start as the commit time (no git.commit_time recorded)"
        )
    overall, kpis = keys(cs, incs, span), health(scoped, all_changes, since)
    return DoraReport(since, until, overall, per_model, weeks, kpis, cs, notes)


def dora_report(
    store: MetadataStore | None = None,
    *,
    since_s: float = 90 * DAY,
    now: float | None = None,
    model: str | None = None,
) -> DoraReport:
    """Read the audit trail, the versions' runs and the rollouts' aliases, then summarize."""
    from loopline.errors import LooplineError
    from loopline.store import open_metadata_store

    store = store or open_metadata_store()
    events = store.list_audit_events()
    commits: dict[tuple[str, int], Commit] = {}
    rollout_alias: dict[str, str] = {}
    for e in events:
        try:
            if e.action == "register" and (e.after or {}).get("run_id"):
                run = store.get_run(str((e.after or {})["run_id"]))
                at = run.tags.get("git.commit_time", "")
                key = (model_of(e.target_id), int(e.target_id.rpartition("/")[2]))
                commits[key] = (
                    Commit(float(at), "commit")
                    if at.replace(".", "", 1).isdigit()
                    else Commit(run.started_at, "run_start")
                )
            elif e.action == "deploy.start":
                d = store.get_deployment(int(e.target_id.rpartition("#")[2]))
                rollout_alias[e.target_id] = d.alias
        except (LooplineError, ValueError):
            continue  # a run or rollout since removed: its events still count, without detail
    until = now if now is not None else time.time()
    return summarize(events, commits, rollout_alias, until - since_s, until, model)


__all__ = [
    "DRIFT_RULES",
    "FAILURE_RULES",
    "MIN_DEPLOYMENTS",
    "MIN_RESTORES",
    "Change",
    "Commit",
    "DoraReport",
    "Incident",
    "Keys",
    "changes",
    "dora_report",
    "health",
    "incidents",
    "iso_week",
    "keys",
    "summarize",
]
