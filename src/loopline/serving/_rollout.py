"""Following a deployment record, and driving a canary from this process.

`RolloutFollower.sync()` reads the model's active deployment and rebuilds the router when
it changed (every replica does the same, so they all route alike). `check()` is the
canary controller: each interval it judges the challenger against the SLO over the last
window (or, while that window holds fewer than `min_requests`, over every request since
the step began, so a low-traffic canary is judged and advances eventually); on a
violation it rolls traffic back to the champion *here first* (the router is replaced
before the store is even written), then records the rollback, an audit event and an
alert. When a step has been healthy for its duration and has seen `min_requests`
challenger requests it advances, and after the last step the alias moves to the
challenger. Store updates are conditional on the step the decision was made at, so when
several replicas decide at once only one write lands. While a step waits for requests,
the controller notes their count with the deployment (`progress`, at most every
`progress_every_s`), which is what `loopline deployments status` shows.

The replica whose rollback landed raises the `canary_rolled_back` alert (critical) and
notifies it through the model's alert sinks (the store, its monitors' webhooks) and any
given to the follower, on a thread of its own so a slow receiver never delays the next
decision. Every rollback is notified, even while the previous one's alert is still open;
the next rollout of the model that completes resolves it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from loopline.config import current_user
from loopline.errors import ConflictError, LooplineError
from loopline.serving._app import ScoringService
from loopline.serving._deploy import rollback_deployment
from loopline.serving._health import ArmStats, Slo, Window, canary_violations
from loopline.serving._router import SingleRouter
from loopline.serving._routers import router_for
from loopline.serving._slot import ModelSlot, load_served
from loopline.store import (
    PROGRESS_ACTION,
    AlertChange,
    AlertSink,
    Deployment,
    MetadataStore,
    MonitoringStore,
    deliver,
    model_sinks,
    open_metadata_store,
)

log = logging.getLogger("loopline.serving")
ROLLBACK_RULE = "canary_rolled_back"


def slo_of(deployment: Deployment) -> Slo:
    given = deployment.params.get("slo", {})
    base = Slo()
    return Slo(
        max_error_rate=float(given.get("max_error_rate", base.max_error_rate)),
        max_p95_ms=float(given.get("max_p95_ms", base.max_p95_ms)),
        max_psi=float(given.get("max_psi", base.max_psi)),
        min_requests=int(given.get("min_requests", base.min_requests)),
        window_s=float(given.get("window_s", base.window_s)),
    )


def since(stats: ArmStats, start: float) -> Window:
    """Every request `stats` holds from monotonic time `start` on (`window` counts from
    `now - stats.window_s`, and nothing later than now exists)."""
    return stats.window(now=start + stats.window_s)


def step_started(d: Deployment) -> float:
    """The monotonic time the deployment's current step began (its last recorded change)."""
    return time.monotonic() - max(0.0, time.time() - d.updated_at)


def waiting(d: Deployment, now: float | None = None) -> dict[str, Any] | None:
    """Why an active canary's step has not advanced yet, from the deployment record: the
    challenger requests a server noted since the step began (against `min_requests`) and
    the seconds at this step (against the step's duration); None for other rollouts."""
    if d.strategy != "canary" or d.status != "active":
        return None
    noted = d.params.get("progress") or {}
    requests = int(noted.get("requests", 0)) if noted.get("step") == d.step else 0
    elapsed = max(0.0, (time.time() if now is None else now) - d.updated_at)
    return {
        "step": d.step,
        "steps": len(d.params.get("steps", [100])),
        "requests": requests,
        "min_requests": slo_of(d).min_requests,
        "seconds": elapsed,
        "step_duration_s": float(d.params.get("step_duration_s", 30)),
    }


def _runbook(d: Deployment) -> str:
    m = d.model
    return (
        f"1. Traffic is already back on v{d.champion_version} (@{d.alias}); nothing to undo.\n"
        f"2. Read why: `loopline deployments list {m}` (the reason names the broken SLO) and the "
        f"server's /metrics for the challenger arm.\n"
        f"3. Fix v{d.challenger_version} (or its data), register it, and roll it out again "
        f"with `loopline deployments start {m} VERSION`; the alert resolves when a rollout of "
        f"{m} completes."
    )


class RolloutFollower:
    def __init__(
        self,
        service: ScoringService,
        champion: ModelSlot,
        poll_s: float = 1.0,
        *,
        alert_sinks: Sequence[AlertSink] = (),
    ):
        self.service = service
        self.champion = champion
        self.poll_s = poll_s
        self.alert_sinks = list(alert_sinks)  # besides the model's own (see `model_sinks`)
        self.progress_every_s = 2.0  # how often a waiting step's request count is noted
        self._noted: tuple[int, int, int] | None = None  # (deployment, step, requests)
        self._noted_at = 0.0
        self._deliveries: list[threading.Thread] = []
        self.deployment: Deployment | None = None
        self._challenger: ModelSlot | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="loopline-rollout", daemon=True)

    def start(self) -> None:
        self.sync()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        for t in self._deliveries:
            t.join(5)

    def _key(self, d: Deployment | None) -> tuple[Any, ...] | None:
        if d is None:
            return None
        params = {k: v for k, v in d.params.items() if k != "progress"}  # a note, not routing
        return (d.id, d.status, d.step, d.challenger_percent, str(params))

    def sync(self) -> None:
        """Route as the store's active deployment says (all to the champion if none)."""
        try:
            current = open_metadata_store().active_deployment(self.service.model_name)
        except LooplineError:
            return  # store briefly unavailable: keep routing as before
        if self._key(current) == self._key(self.deployment):
            return
        if current is None or self.deployment is None or current.id != self.deployment.id:
            # A new rollout is judged on its own traffic, not on the last challenger's.
            for arm in ("challenger", "shadow"):
                self.service.stats.pop(arm, None)
        challenger = None
        if current is not None and current.challenger_version is not None:
            uri = f"models:/{current.model}/{current.challenger_version}"
            if self._challenger is None or self._challenger.uri != uri:
                try:
                    self._challenger = ModelSlot(uri, load_served(uri))
                except Exception:  # an unloadable challenger gets no traffic
                    self._challenger = None
            challenger = self._challenger
        self.service.router = router_for(current, self.champion, challenger)
        self.deployment = current

    def check(self) -> None:
        """One canary decision: roll back, advance a step, complete, or wait."""
        d = self.deployment
        if d is None or d.strategy != "canary" or d.status != "active":
            return
        slo = slo_of(d)
        arms = self.service.arm_stats("challenger"), self.service.arm_stats("champion")
        # Judged over the SLO's window; at low traffic, over every request since the step
        # began (counted cumulatively), so `min_requests` is reached eventually.
        now, began = time.monotonic(), step_started(d)
        challenger, champion = (since(a, now - slo.window_s) for a in arms)
        if challenger.requests >= slo.min_requests and began <= now - slo.window_s:
            counted = challenger.requests  # the step holds the whole window: enough already
        else:  # (the step's requests, counted only here: at high traffic that is costly)
            this_step = since(arms[0], began)
            counted = this_step.requests
            if challenger.requests < slo.min_requests:
                challenger, champion = this_step, since(arms[1], began)
        broken = canary_violations(challenger, champion, slo)
        store = open_metadata_store()
        if broken:
            self.service.router = SingleRouter(self.champion)  # traffic back first
            reason = "; ".join(broken)
            # The store writes the deploy.rollback event and its alert in one transaction.
            try:
                rollback_deployment(d.model, reason=reason, expected=d)
            except ConflictError:
                pass  # another replica rolled it back (or ended it) first: it alerts
            else:  # this replica's decision: it tells the humans
                self._raise_rollback_alert(store, d, reason)
            self.sync()
            return
        steps = [float(s) for s in d.params.get("steps", [100])]
        duration = float(d.params.get("step_duration_s", 30))
        self._note_progress(store, d, counted, slo.min_requests)
        if time.time() - d.updated_at < duration or counted < slo.min_requests:
            return
        if d.step + 1 < len(steps):
            store.update_deployment(
                d.id,
                expected_step=d.step,
                actor=current_user(),
                action="deploy.step",
                step=d.step + 1,
                challenger_percent=steps[d.step + 1],
            )
        else:
            landed = store.update_deployment(
                d.id,
                expected_step=d.step,
                actor=current_user(),
                action="deploy.complete",
                status="completed",
                challenger_percent=100.0,
                promote_alias=True,
            )
            if landed is not None:
                self._resolve_rollback_alert(store, d)
        self.sync()

    def _note_progress(
        self, store: MetadataStore, d: Deployment, requests: int, least: int
    ) -> None:
        """Note the step's challenger requests with the deployment, for `deployments status`:
        when the count changed, at most every `progress_every_s` (the first count that
        reaches `least` at once, so the status never stops one short)."""
        key = (d.id, d.step, requests)
        done = self._noted is not None and self._noted[:2] == key[:2] and self._noted[2] >= least
        if key == self._noted or done:
            return  # unchanged, or this step's minimum already noted: nothing more to say
        due = time.monotonic() - self._noted_at >= self.progress_every_s
        if not due and requests < least:
            return
        try:
            store.update_deployment(
                d.id,
                expected_step=d.step,
                actor=current_user(),
                action=PROGRESS_ACTION,
                params={"progress": {"step": d.step, "requests": requests, "at": time.time()}},
            )
        except LooplineError:  # only a note: the decision does not depend on it
            log.warning("could not note the progress of deployment #%s", d.id)
            return
        self._noted, self._noted_at = key, time.monotonic()

    def _raise_rollback_alert(self, store: MetadataStore, d: Deployment, reason: str) -> None:
        if not isinstance(store, MonitoringStore):
            log.warning("store %s cannot hold alerts: rollback of #%s not alerted", store, d.id)
            return
        message = (
            f"canary of {d.model} v{d.challenger_version} was rolled back automatically "
            f"(deployment #{d.id}, at {d.challenger_percent:g}% of traffic): {reason}; "
            f"@{d.alias} traffic is back on v{d.champion_version}"
        )
        try:
            change = store.raise_alert(
                d.model,
                ROLLBACK_RULE,
                severity="critical",
                message=message,
                runbook=_runbook(d),
                context={
                    "deployment": d.id,
                    "challenger": d.challenger_version,
                    "champion": d.champion_version,
                    "alias": d.alias,
                    "strategy": d.strategy,
                    "reason": reason,
                },
                actor=current_user(),
            )
        except LooplineError:  # traffic is back already; the audit event records it anyway
            log.exception("could not raise the rollback alert of deployment #%s", d.id)
            return
        self._notify(store, d.model, change, repeats=True)

    def _resolve_rollback_alert(self, store: MetadataStore, d: Deployment) -> None:
        if not isinstance(store, MonitoringStore):
            return
        try:
            change = store.resolve_alert(
                d.model,
                ROLLBACK_RULE,
                actor=current_user(),
                message=f"deployment #{d.id} of {d.model} v{d.challenger_version} completed",
            )
        except LooplineError:
            log.exception("could not resolve the rollback alert of %s", d.model)
            return
        if change is not None:
            self._notify(store, d.model, change, repeats=False)

    def _notify(
        self, mon: MonitoringStore, model: str, change: AlertChange, *, repeats: bool
    ) -> None:
        """Deliver on a thread of its own: webhook retries must not hold up the controller."""

        def run() -> None:
            try:
                sinks = [*model_sinks(mon, model), *self.alert_sinks]
                deliver(mon, [change], sinks, repeats=repeats)
            except Exception:  # recorded as dead letters where it could be; never fatal
                log.exception("delivering the %s alert of %s failed", change.alert.rule, model)

        self._deliveries = [t for t in self._deliveries if t.is_alive()]
        thread = threading.Thread(target=run, name="loopline-alert", daemon=True)
        self._deliveries.append(thread)
        thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                self.sync()
                self.check()
            except Exception:  # the controller must outlive a bad poll; serving goes on
                continue


__all__ = ["RolloutFollower", "since", "slo_of", "step_started", "waiting"]
