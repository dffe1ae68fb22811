"""Following a deployment record, and driving a canary from this process.

`RolloutFollower.sync()` reads the model's active deployment and rebuilds the router when
it changed (every replica does the same, so they all route alike). `check()` is the
canary controller: each interval it judges the challenger against the SLO over the last
window; on a violation it rolls traffic back to the champion *here first* (the router is
replaced before the store is even written), then records the rollback, an audit event and
an alert. When a step has been healthy for its duration it advances, and after the last
step the alias moves to the challenger. Store updates are conditional on the step the
decision was made at, so when several replicas decide at once only one write lands.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from loopline.config import current_user
from loopline.errors import LooplineError
from loopline.serving._app import ScoringService
from loopline.serving._health import Slo, canary_violations
from loopline.serving._router import SingleRouter
from loopline.serving._routers import router_for
from loopline.serving._slot import ModelSlot, load_served
from loopline.store import Deployment, open_metadata_store


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


class RolloutFollower:
    def __init__(self, service: ScoringService, champion: ModelSlot, poll_s: float = 1.0):
        self.service = service
        self.champion = champion
        self.poll_s = poll_s
        self.deployment: Deployment | None = None
        self._challenger: ModelSlot | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="loopline-rollout", daemon=True)

    def start(self) -> None:
        self.sync()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _key(self, d: Deployment | None) -> tuple[Any, ...] | None:
        return None if d is None else (d.id, d.status, d.step, d.challenger_percent, str(d.params))

    def sync(self) -> None:
        """Route as the store's active deployment says (all to the champion if none)."""
        try:
            current = open_metadata_store().active_deployment(self.service.model_name)
        except LooplineError:
            return  # store briefly unavailable: keep routing as before
        if self._key(current) == self._key(self.deployment):
            return
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
        challenger = self.service.arm_stats("challenger").window()
        champion = self.service.arm_stats("champion").window()
        broken = canary_violations(challenger, champion, slo)
        store = open_metadata_store()
        if broken:
            self.service.router = SingleRouter(self.champion)  # traffic back first
            reason = "; ".join(broken)
            # The store writes the deploy.rollback event and its alert in one transaction.
            store.update_deployment(
                d.id,
                expected_step=d.step,
                actor=current_user(),
                action="deploy.rollback",
                status="rolled_back",
                challenger_percent=0.0,
                reason=reason,
            )
            self.sync()
            return
        steps = [float(s) for s in d.params.get("steps", [100])]
        duration = float(d.params.get("step_duration_s", 30))
        if time.time() - d.updated_at < duration or challenger.requests < slo.min_requests:
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
            store.update_deployment(
                d.id,
                expected_step=d.step,
                actor=current_user(),
                action="deploy.complete",
                status="completed",
                challenger_percent=100.0,
                promote_alias=True,
            )
        self.sync()

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                self.sync()
                self.check()
            except Exception:  # the controller must outlive a bad poll; serving goes on
                continue


__all__ = ["RolloutFollower", "slo_of"]
