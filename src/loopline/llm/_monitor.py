"""Monitoring LLM traffic like a model: trace metrics over a window against thresholds,
raised and resolved as the same deduplicated alerts (store, webhook) as drift."""

from __future__ import annotations

import time
from dataclasses import dataclass

from loopline.identity import current_user
from loopline.llm._tracing import TraceLog, summarize
from loopline.monitoring import Finding, apply_findings
from loopline.store import AlertChange, open_metadata_store


@dataclass(frozen=True)
class TraceSlo:
    """Bounds on trace metrics; None leaves a bound unchecked."""

    max_cost_per_request_usd: float | None = None
    max_p95_ms: float | None = None
    max_error_rate: float | None = None
    min_thumbs_up_rate: float | None = None
    min_requests: int = 20


@dataclass(frozen=True)
class TraceCheck:
    metrics: dict[str, float]
    findings: tuple[Finding, ...]
    alerts: tuple[AlertChange, ...]


def _bound(
    rule: str, label: str, value: float | None, bound: float | None, upper: bool
) -> Finding | None:
    if bound is None or value is None:
        return None
    bad = value > bound if upper else value < bound
    sign = ">" if upper else "<"
    if bad:
        return Finding(
            rule,
            "warning",
            f"{label} {value:.6g} {sign} {bound:g}",
            {"value": value, "bound": bound},
        )
    return Finding(rule, None, f"{label} back within {bound:g}")


def findings_for(metrics: dict[str, float], slo: TraceSlo) -> list[Finding]:
    """Pure: one finding per bound (a None severity resolves); none on too little traffic."""
    if metrics.get("requests", 0) < slo.min_requests:
        return []
    m = metrics.get
    candidates = [
        _bound("llm_cost", "cost per request (USD)", m("cost_per_request_usd"),
               slo.max_cost_per_request_usd, True),
        _bound("llm_latency", "p95 latency (ms)", m("latency_p95_ms"), slo.max_p95_ms, True),
        _bound("llm_errors", "error rate", m("error_rate"), slo.max_error_rate, True),
        _bound("llm_quality", "thumbs-up rate", m("thumbs_up_rate"),
               slo.min_thumbs_up_rate, False),
    ]  # fmt: skip
    return [f for f in candidates if f is not None]


def check_traces(
    prompt: str, slo: TraceSlo, *, window_s: float = 3600.0, log: TraceLog | None = None
) -> TraceCheck:
    """Summarize the last `window_s` of `prompt`'s traces and raise/resolve its alerts."""
    traces = (log or TraceLog()).read(prompt, since=time.time() - window_s)
    metrics = summarize(traces)
    findings = findings_for(metrics, slo)
    changes = apply_findings(
        open_metadata_store(), f"prompts:/{prompt}@production", prompt, findings, current_user()
    )
    return TraceCheck(metrics, tuple(findings), tuple(changes))


__all__ = ["TraceCheck", "TraceSlo", "check_traces", "findings_for"]
