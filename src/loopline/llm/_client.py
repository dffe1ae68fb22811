"""Calling a registered prompt in production: route (canary), guard, call, trace.

    client = PromptClient("support-reply", provider, guardrails=pipeline)
    reply = client.complete({"question": "Where is my order?"}, key=user_id)
    client.feedback(reply.request_id, thumbs="up")

Routing reuses the serving layer unchanged: the prompt's champion and challenger versions
sit in `ModelSlot`s, `router_for` (the same canary/A-B/shadow/blue-green policies models use)
picks the arm, and the `RolloutFollower` follows the deployment record and drives the canary
(step up, complete, or roll back on its SLO) from each arm's outcomes. Start a canary with
`loopline.serving.deploy(name, version, strategy="canary")` or `loopline prompts canary`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from loopline.errors import LooplineError
from loopline.llm._errors import GuardrailViolation
from loopline.llm._guardrails import GuardrailPipeline
from loopline.llm._prompts import FLAVOR, Prompt, prompt_from
from loopline.llm._provider import ChatProvider, ChatResult
from loopline.llm._tracing import Trace, TraceLog
from loopline.serving import (
    AliasWatcher,
    ModelSlot,
    RolloutFollower,
    ScoringService,
    Served,
    ServingMetrics,
    SingleRouter,
    load_served,
)


def _prompt(served: Served) -> Prompt:
    if served.version.flavor != FLAVOR or not isinstance(served.model.raw, bytes):
        raise LooplineError(f"{served.version.uri} is not a prompt", hint="route prompt versions")
    return prompt_from(served.version, served.model.raw)


class PromptRouter:
    """Which version of a prompt answers a request, per the prompt's deployment record."""

    def __init__(self, name: str, alias: str = "production", window_s: float = 10.0) -> None:
        uri = f"models:/{name}@{alias}"
        self.champion = ModelSlot(uri, load_served(uri))
        _prompt(self.champion.current)  # refuse a non-prompt up front
        self.service = ScoringService(
            name, SingleRouter(self.champion), ServingMetrics(), None, window_s
        )
        self.follower = RolloutFollower(self.service, self.champion)
        self.watcher = AliasWatcher(self.champion, 1.0, lambda old, new: None, lambda v, e: None)
        self.follower.sync()

    def route(self, key: str) -> tuple[str, Prompt]:
        route = self.service.router.route(key)
        return route.arm, _prompt(route.slot.current)

    def record(self, arm: str, ok: bool, latency_ms: float) -> None:
        self.service.arm_stats(arm).record(ok, latency_ms)

    def poll(self) -> None:
        """Follow the alias and the deployment; take one canary decision."""
        self.watcher.check_once()
        self.follower.sync()
        self.follower.check()


@dataclass(frozen=True)
class Completion:
    text: str
    request_id: str
    prompt: Prompt
    arm: str
    calls: tuple[ChatResult, ...]
    guardrail_events: tuple[dict[str, Any], ...]


class PromptClient:
    def __init__(
        self,
        name: str,
        provider: ChatProvider,
        *,
        alias: str = "production",
        guardrails: GuardrailPipeline | None = None,
        traces: TraceLog | None = None,
        router: PromptRouter | None = None,
    ) -> None:
        self.name = name
        self.provider = provider
        self.guardrails = guardrails or GuardrailPipeline()
        self.traces = traces or TraceLog()
        self.router = router or PromptRouter(name, alias)

    def complete(
        self,
        variables: Mapping[str, Any],
        *,
        key: str | None = None,
        retrieval: Sequence[Mapping[str, Any]] = (),
        meta: Mapping[str, Any] | None = None,
    ) -> Completion:
        """Route by `key` (sticky), guard, call and trace one request."""
        trace = Trace(prompt=self.name, version=0, model="")
        arm, prompt = self.router.route(key or trace.request_id)
        model = prompt.model or getattr(self.provider, "default_model", None) or ""
        t0 = time.perf_counter()
        status, error, text = "ok", None, ""
        events: list[dict[str, Any]] = []
        calls: tuple[ChatResult, ...] = ()
        try:
            guarded = self.guardrails.run(
                lambda msgs: self.provider.chat(msgs, model=prompt.model, **prompt.params),
                prompt.format(**variables),
            )
            calls, text = guarded.calls, guarded.text
            events = [e.to_dict() for e in guarded.events]
        except GuardrailViolation as exc:
            status, error, events = "blocked", exc.message, list(exc.details.get("events", []))
            raise
        except LooplineError as exc:
            status, error = "error", exc.message
            raise
        finally:
            latency = (time.perf_counter() - t0) * 1000
            self.router.record(arm, status != "error", latency)
            self.traces.record(
                Trace(
                    prompt=self.name,
                    version=prompt.version,
                    model=calls[-1].model if calls else model,
                    tokens_in=sum(c.tokens_in for c in calls),
                    tokens_out=sum(c.tokens_out for c in calls),
                    cost_usd=sum(c.cost_usd for c in calls),
                    latency_ms=latency,
                    status=status,
                    error=error,
                    arm=arm,
                    guardrail_events=events,
                    retrieval=[dict(r) for r in retrieval],
                    request_id=trace.request_id,
                    ts=trace.ts,
                    meta=dict(meta or {}),
                )
            )
        return Completion(text, trace.request_id, prompt, arm, tuple(calls), tuple(events))

    def feedback(
        self, request_id: str, *, thumbs: str | None = None, tags: Sequence[str] = ()
    ) -> None:
        self.traces.feedback(request_id, thumbs=thumbs, tags=tags)


__all__ = ["Completion", "PromptClient", "PromptRouter"]
