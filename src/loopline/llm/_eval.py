"""Evaluating a prompt version on an eval set: a tracked run whose metrics are recorded as an
evaluation of the version, so `promote` (and any gate policy, e.g.
`pass_rate >= champion.pass_rate`) judges prompts exactly as it judges models.

Metrics: pass_rate (cases passing every check), pass_rate.<check type>, errors (calls that
failed), latency_p50_ms / latency_p95_ms, tokens_in / tokens_out (totals), cost_usd (total),
cost_per_case_usd, and similarity_mean / judge_score_mean when those checks ran.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from loopline.errors import LooplineError
from loopline.identity import current_user
from loopline.llm._evalset import EvalCase, EvalSet, load_eval_set
from loopline.llm._evaluators import Answer, CheckResult, Judges, run_check, validate_check
from loopline.llm._guardrails import GuardrailPipeline
from loopline.llm._prompts import Prompt, load_prompt
from loopline.llm._provider import ChatProvider
from loopline.store import EvaluationRecord, open_artifact_store, open_metadata_store

TASK = "llm"


@dataclass(frozen=True)
class CaseResult:
    case_id: str
    output: str
    passed: bool
    checks: tuple[CheckResult, ...]
    latency_ms: float
    tokens_in: int
    tokens_out: int
    cost_usd: float
    error: str | None = None
    tags: tuple[str, ...] = ()

    @property
    def why(self) -> str:
        if self.error:
            return self.error
        return "; ".join(f"{c.check}: {c.reason}" for c in self.checks if not c.passed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "passed": self.passed,
            "output": self.output,
            "why": self.why,
            "checks": [c.to_dict() for c in self.checks],
            "latency_ms": self.latency_ms,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cost_usd": self.cost_usd,
            "error": self.error,
            "tags": list(self.tags),
        }


@dataclass(frozen=True)
class EvalReport:
    prompt: str  # prompts:/name/N
    eval_set: str
    fingerprint: str
    metrics: dict[str, float]
    cases: tuple[CaseResult, ...]
    run_id: str | None = None
    evaluation_id: int | None = None
    slices: dict[str, Any] = field(default_factory=dict)

    @property
    def failures(self) -> list[CaseResult]:
        return [c for c in self.cases if not c.passed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "eval_set": self.eval_set,
            "fingerprint": self.fingerprint,
            "run_id": self.run_id,
            "evaluation_id": self.evaluation_id,
            "metrics": self.metrics,
            "slices": self.slices,
            "failures": [c.to_dict() for c in self.failures],
            "cases": [c.to_dict() for c in self.cases],
        }


def run_case(
    prompt: Prompt,
    case: EvalCase,
    provider: ChatProvider,
    judges: Judges,
    guardrails: GuardrailPipeline | None = None,
) -> CaseResult:
    """Call the model for one case and run its checks (exact match on `expected` if none)."""
    checks = case.checks or ({"type": "exact"},)
    try:
        messages = prompt.format(**case.vars)

        def call(msgs: list[dict[str, str]]) -> Any:
            return provider.chat(msgs, model=prompt.model, **prompt.params)

        if guardrails is not None:
            guarded = guardrails.run(call, messages)
            calls, text = guarded.calls, guarded.text
        else:
            calls = (call(messages),)
            text = calls[0].text
    except LooplineError as exc:
        failed = tuple(CheckResult(str(c["type"]), False, 0.0, "no answer") for c in checks)
        return CaseResult(case.id, "", False, failed, 0.0, 0, 0, 0.0, exc.message, case.tags)
    answer = Answer(
        text,
        latency_ms=sum(c.latency_ms for c in calls),
        cost_usd=sum(c.cost_usd for c in calls),
        tokens_in=sum(c.tokens_in for c in calls),
        tokens_out=sum(c.tokens_out for c in calls),
    )
    results = tuple(run_check(spec, case, answer, judges) for spec in checks)
    return CaseResult(
        case.id, text, all(r.passed for r in results), results, answer.latency_ms,
        answer.tokens_in, answer.tokens_out, answer.cost_usd, None, case.tags,
    )  # fmt: skip


def summarize(cases: tuple[CaseResult, ...]) -> tuple[dict[str, float], dict[str, Any]]:
    """(metrics, slices by tag and by check type) of case results."""
    n = len(cases)
    answered = [c for c in cases if c.error is None]
    lat = np.array([c.latency_ms for c in answered]) if answered else np.zeros(1)
    cost = sum(c.cost_usd for c in cases)
    metrics: dict[str, float] = {
        "pass_rate": sum(c.passed for c in cases) / n,
        "n_cases": float(n),
        "errors": float(n - len(answered)),
        "latency_p50_ms": float(np.percentile(lat, 50)),
        "latency_p95_ms": float(np.percentile(lat, 95)),
        "tokens_in": float(sum(c.tokens_in for c in cases)),
        "tokens_out": float(sum(c.tokens_out for c in cases)),
        "cost_usd": float(cost),
        "cost_per_case_usd": float(cost / n),
    }
    by_check: dict[str, list[CheckResult]] = {}
    for c in cases:
        for r in c.checks:
            by_check.setdefault(r.check, []).append(r)
    for kind, rs in sorted(by_check.items()):
        metrics[f"pass_rate.{kind}"] = sum(r.passed for r in rs) / len(rs)
        if kind == "similarity":
            metrics["similarity_mean"] = float(np.mean([r.score for r in rs]))
        if kind == "judge":
            metrics["judge_score_mean"] = float(np.mean([r.score for r in rs]))
    tags = sorted({t for c in cases for t in c.tags})
    by_tag = {
        t: {"pass_rate": float(np.mean([c.passed for c in cases if t in c.tags])),
            "cases": sum(t in c.tags for c in cases)}
        for t in tags
    }  # fmt: skip
    slices = {"tag": by_tag, "check": {k: metrics[f"pass_rate.{k}"] for k in by_check}}
    return metrics, slices


def evaluate_prompt(
    uri: str | Prompt,
    eval_set: EvalSet | str | Path,
    provider: ChatProvider,
    *,
    judges: Judges | None = None,
    guardrails: GuardrailPipeline | None = None,
    experiment: str = "llm.eval",
    record: bool = True,
) -> EvalReport:
    """Run every case of `eval_set` through the prompt version at `uri`; with `record`, as a
    tracked run (the set logged as a dataset version, the report as an artifact) whose
    metrics are stored as an evaluation of the version."""
    from loopline.tracking import start_run

    prompt = load_prompt(uri) if isinstance(uri, str) else uri
    es = eval_set if isinstance(eval_set, EvalSet) else load_eval_set(eval_set)
    for case in es.cases:  # refuse a bad check before spending a single call
        for i, spec in enumerate(case.checks, 1):
            validate_check(spec, case, f"eval set {es.name}, case {case.id!r}, check {i}")
        if not case.checks:
            validate_check({"type": "exact"}, case, f"eval set {es.name}, case {case.id!r}")
    helpers = judges or Judges(judge=provider)
    fingerprint = es.fingerprint
    if not record:
        cases = tuple(run_case(prompt, c, provider, helpers, guardrails) for c in es.cases)
        metrics, slices = summarize(cases)
        return EvalReport(prompt.uri, es.name, fingerprint, metrics, cases, slices=slices)
    params: dict[str, str | int | float | bool | None] = {
        "prompt": prompt.uri,
        "eval_set": es.name,
        "model": prompt.model,
        "cases": len(es.cases),
    }
    with start_run(
        experiment=experiment, params=params, tags={"loopline.evaluates": prompt.uri}
    ) as run:
        run.log_dataset(es.frame(), name=es.name, role="evaluation", source=es.source, save=True)
        cases = tuple(run_case(prompt, c, provider, helpers, guardrails) for c in es.cases)
        metrics, slices = summarize(cases)
        run.log_metrics(metrics)
        report = EvalReport(prompt.uri, es.name, fingerprint, metrics, cases, run.id, slices=slices)
        _log_report(run.id, report)
    evaluation = _record(prompt, fingerprint, metrics, slices)
    return EvalReport(
        prompt.uri, es.name, fingerprint, metrics, cases, run.id, evaluation.id, slices
    )


def _log_report(run_id: str, report: EvalReport) -> None:
    data = json.dumps(report.to_dict(), indent=2, default=str).encode()
    digest, size = open_artifact_store().put_bytes(data)
    open_metadata_store().record_artifact(run_id, "eval_report.json", "file", digest, size)


def _record(
    prompt: Prompt, fingerprint: str, metrics: Mapping[str, float], slices: Mapping[str, Any]
) -> EvaluationRecord:
    return open_metadata_store().record_evaluation(
        prompt.name,
        prompt.version,
        dataset_fingerprint=fingerprint,
        task=TASK,
        metrics=metrics,
        slices=slices,
        recorded_by=current_user(),
    )


__all__ = ["TASK", "CaseResult", "EvalReport", "evaluate_prompt", "run_case", "summarize"]
