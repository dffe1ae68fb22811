"""Continuous training: cron schedules, retrain requests from monitoring (drift and
performance alerts) and new dataset versions start pipeline runs.

The scheduler keeps no state of its own: what already ran is read back from the store
(the `schedule.slot` and `data.<dataset>` tags of earlier pipeline runs, and the status of
retrain requests), so a restarted scheduler neither repeats nor forgets a firing, and the
team server can run the same loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from loopline._cron import describe_cron, parse_cron
from loopline.config import current_user
from loopline.errors import LooplineError
from loopline.pipelines._load import load_pipeline
from loopline.pipelines._results import PipelineResult
from loopline.pipelines._runner import run_pipeline
from loopline.pipelines._spec import PipelineSpec
from loopline.store import (
    MetadataStore,
    MonitoringStore,
    RetrainRequest,
    Run,
    open_metadata_store,
)

_PRIORITY = ("drift", "performance", "new-data", "schedule")
_LOOKBACK_RUNS = 500  # pipeline runs scanned for the tags that say what already ran


@dataclass(frozen=True)
class Firing:
    """One reason to run a pipeline now."""

    pipeline: str
    trigger: str  # drift | performance | new-data | schedule
    reason: str
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    request_id: int | None = None


def request_kind(request: RetrainRequest) -> tuple[str, ...]:
    """Which trigger kinds a retrain request answers: a drift policy names a feature, a
    performance policy a metric; a request made by hand answers both."""
    if "feature" in request.context:
        return ("drift",)
    if "metric" in request.context:
        return ("performance",)
    return ("drift", "performance")


def _pipeline_runs(store: MetadataStore, spec: PipelineSpec) -> list[Run]:
    try:
        runs = store.list_runs(experiment=spec.name, limit=_LOOKBACK_RUNS)
    except LooplineError:  # the experiment does not exist yet: nothing ran
        return []
    return [r for r in runs if r.tags.get("loopline.kind") == "pipeline"]


def due(spec: PipelineSpec, store: MetadataStore, now: datetime) -> list[Firing]:
    """Everything that asks `spec` to run at `now` (UTC), most urgent first."""
    found: list[Firing] = []
    kinds = {t.on for t in spec.triggers}
    runs: list[Run] | None = None
    if kinds & {"drift", "performance"} and spec.model and isinstance(store, MonitoringStore):
        for req in reversed(store.list_retrain_requests(model=spec.model, status="pending")):
            kind = next((k for k in request_kind(req) if k in kinds), None)
            if kind is not None:
                tags = {"trigger.request": str(req.id)}
                if req.alert_id is not None:
                    tags["trigger.alert"] = str(req.alert_id)
                found.append(Firing(spec.name, kind, req.reason, tags, request_id=req.id))
    for trig in spec.triggers:
        if trig.on != "new-data" or trig.dataset is None:
            continue
        versions = store.list_datasets(trig.dataset)
        if not versions:
            continue
        newest = versions[0]
        runs = runs if runs is not None else _pipeline_runs(store, spec)
        tag = f"data.{trig.dataset}"
        seen = next((r.tags[tag] for r in runs if tag in r.tags), None)
        if seen != newest.fingerprint:
            reason = (
                f"new version {newest.fingerprint[:12]} of dataset {trig.dataset} "
                f"({newest.n_rows:,} rows)"
            )
            params = {trig.param: newest.fingerprint} if trig.param else {}
            found.append(Firing(spec.name, "new-data", reason, {tag: newest.fingerprint}, params))
    if spec.schedule is not None:
        local = now.astimezone(ZoneInfo(spec.schedule.timezone))
        if parse_cron(spec.schedule.cron).matches(local):
            slot = local.strftime("%Y-%m-%dT%H:%M")
            runs = runs if runs is not None else _pipeline_runs(store, spec)
            if not any(r.tags.get("schedule.slot") == slot for r in runs):
                reason = f"schedule '{spec.schedule.cron}' ({describe_cron(spec.schedule.cron)})"
                found.append(Firing(spec.name, "schedule", reason, {"schedule.slot": slot}))
    return sorted(found, key=lambda f: _PRIORITY.index(f.trigger))


class Scheduler:
    """Checks pipelines for due firings and runs each at most once per tick."""

    def __init__(
        self,
        pipelines: Sequence[PipelineSpec],
        *,
        on_message: Callable[[str], None] | None = None,
        run: Callable[..., PipelineResult] = run_pipeline,
    ) -> None:
        self.pipelines = list(pipelines)
        self.say = on_message or (lambda _m: None)
        self._run = run
        self._warned = False

    def _reload(self, spec: PipelineSpec) -> PipelineSpec:
        """Re-read the spec so an edited loopline.yaml applies without a restart; a broken
        edit keeps the last good spec (and says so)."""
        try:
            return load_pipeline(spec.source) if spec.source else spec
        except LooplineError as exc:
            self.say(f"{spec.name}: keeping the last good spec: {exc.one_line()}")
            return spec

    def tick(self, now: datetime | None = None) -> list[PipelineResult]:
        now = now or datetime.now(UTC)
        store = open_metadata_store()
        wants = any(t.on in ("drift", "performance") for p in self.pipelines for t in p.triggers)
        if wants and not isinstance(store, MonitoringStore) and not self._warned:
            self._warned = True
            self.say("drift/performance triggers are off: this store has no monitoring support")
        results = []
        for i, spec in enumerate(self.pipelines):
            spec = self.pipelines[i] = self._reload(spec)
            firings = due(spec, store, now)
            if not firings:
                continue
            try:
                results.append(self._fire(spec, store, firings))
            except LooplineError as exc:  # one broken pipeline must not stop the others
                self.say(f"{spec.name}: could not run: {exc.one_line()}")
        return results

    def _fire(
        self, spec: PipelineSpec, store: MetadataStore, firings: list[Firing]
    ) -> PipelineResult:
        first = firings[0]
        reason = "; also ".join(dict.fromkeys(f.reason for f in firings))
        tags: dict[str, str] = {}
        params: dict[str, Any] = {}
        for f in firings:
            tags |= f.tags
            params |= f.params
        requests = [f.request_id for f in firings if f.request_id is not None]
        mon = store if isinstance(store, MonitoringStore) else None
        actor = current_user()
        for rid in requests:
            assert mon is not None
            mon.update_retrain_request(rid, status="started", actor=actor, reason=spec.name)
        self.say(f"{spec.name}: starting ({first.trigger}: {reason})")
        result: PipelineResult | None = None
        try:
            result = self._run(spec, params=params, trigger=first.trigger, reason=reason, tags=tags)
        finally:
            for rid in requests:
                assert mon is not None
                if result is not None and result.ok:
                    why = f"run {result.run_id[:8]}: {result.promotion}: {result.promotion_reason}"
                    mon.update_retrain_request(rid, status="done", actor=actor, reason=why[:2000])
                else:
                    why = f"run {result.run_id[:8]} failed" if result else "the run did not start"
                    mon.update_retrain_request(rid, status="cancelled", actor=actor, reason=why)
        self.say(
            f"{spec.name}: run {result.run_id[:8]} {result.status}; promotion "
            f"{result.promotion}: {result.promotion_reason}"
        )
        return result


def run_scheduler(
    pipelines: Sequence[PipelineSpec],
    *,
    once: bool = False,
    interval_s: float = 30.0,
    max_ticks: int | None = None,
    on_message: Callable[[str], None] | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
) -> list[PipelineResult]:
    """Tick every `interval_s` seconds (at most 60, so no cron minute is missed) until
    `max_ticks` ticks, or once. Returns the runs it started."""
    scheduler = Scheduler(pipelines, on_message=on_message)
    results: list[PipelineResult] = []
    ticks = 0
    while True:
        results.extend(scheduler.tick(clock()))
        ticks += 1
        if once or (max_ticks is not None and ticks >= max_ticks):
            return results
        sleep(min(max(interval_s, 1.0), 60.0))


__all__ = ["Firing", "Scheduler", "due", "request_kind", "run_scheduler"]
