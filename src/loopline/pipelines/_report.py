"""The pull-request report (`loopline reports pr`): a pipeline run's candidate against the
holder of an environment's alias — metric deltas, the gate as a dry run, drift of the new
training data — as Markdown for a PR comment, or JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from loopline.errors import LooplineError, NotFoundError
from loopline.gates import GateDecision, GatePolicy, PromotionGate
from loopline.pipelines._cache import StepCache
from loopline.pipelines._spec import PipelineSpec
from loopline.store import (
    MetadataStore,
    ModelVersion,
    Run,
    open_artifact_store,
    open_metadata_store,
)

PSI_WARN, PSI_ALERT = 0.1, 0.2  # the thresholds teams quote: watch above 0.1, act above 0.2
_SHOWN = ("auc", "f1", "precision", "recall", "accuracy", "log_loss", "latency_p95_ms")


@dataclass
class PrReport:
    pipeline: str
    run: dict[str, Any]
    env: str
    alias: str
    champion: str | None
    candidate_metrics: dict[str, float]
    champion_metrics: dict[str, float] | None
    decision: GateDecision | None
    drift: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.decision is not None and self.decision.passed

    def as_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k != "decision"}
        d["gate"] = None
        if self.decision is not None:
            d["gate"] = {
                "passed": self.decision.passed,
                "policy": self.decision.policy,
                "rules": [r.to_dict() for r in self.decision.results],
            }
        return d

    def to_markdown(self) -> str:
        r = self.run
        champ = f"{self.champion}" if self.champion else "no version yet"
        lines = [f"## Loopline report: {self.pipeline}", ""]
        commit = (r.get("commit") or "")[:8] or "unknown commit"
        lines.append(
            f"Candidate from pipeline run `{r['id'][:8]}` ({r['status']}, {commit}, "
            f"trigger {r['trigger']}) against **@{self.alias}** ({champ})."
        )
        lines.append("")
        if self.decision is None:
            lines.append("**Gate: not evaluated** — " + "; ".join(self.notes))
        elif self.decision.passed:
            lines.append(f"**Gate `{self.env}` (dry run): ✅ passes**")
        else:
            lines.append(f"**Gate `{self.env}` (dry run): ❌ fails** — {self.decision.summary()}")
        lines += ["", "### Metrics vs champion", ""]
        lines += ["| metric | candidate | champion | Δ |", "|---|---:|---:|---:|"]
        names = [m for m in _SHOWN if m in self.candidate_metrics]
        names += sorted(set(self.candidate_metrics) - set(_SHOWN))[:8]
        for m in names:
            c = self.candidate_metrics[m]
            ch = (self.champion_metrics or {}).get(m)
            delta = f"{c - ch:+.4g}" if ch is not None else ""
            lines.append(f"| {m} | {c:.4g} | {'' if ch is None else f'{ch:.4g}'} | {delta} |")
        if self.decision is not None:
            lines += ["", "### Gate rules", "", "| rule | verdict | why |", "|---|---|---|"]
            mark = {"pass": "✅ pass", "fail": "❌ fail", "skip": "skip"}
            for rr in self.decision.results:
                lines.append(f"| `{rr.rule}` | {mark[rr.verdict]} | {rr.reason} |")
        lines += ["", "### Drift of the new training data (PSI vs the champion's)", ""]
        if self.drift:
            lines += ["| column | PSI | status |", "|---|---:|---|"]
            for d in self.drift[:12]:
                lines.append(f"| `{d['column']}` | {d['psi']:.3f} | {d['status']} |")
        else:
            lines.append("no champion training data to compare with")
        steps = ", ".join(f"{k} {v}" for k, v in r.get("steps", {}).items())
        lines += ["", f"<sub>steps: {steps}</sub>"]
        lines += [f"<sub>note: {n}</sub>" for n in self.notes if self.decision is not None]
        return "\n".join(lines) + "\n"


def latest_pipeline_run(store: MetadataStore, spec: PipelineSpec) -> Run:
    try:
        runs = store.list_runs(experiment=spec.name, limit=200)
    except NotFoundError:
        runs = []
    for run in runs:
        if run.tags.get("loopline.kind") == "pipeline":
            return run
    raise NotFoundError(
        f"pipeline {spec.name!r} has no runs yet",
        hint=f"run it first: loopline pipelines run {spec.source}",
    )


def _drift(train: pd.DataFrame, champion_run: Run, store: MetadataStore) -> list[dict[str, Any]]:
    from loopline.stats import column_drift, reference_from_profile

    uses = [u for u in store.run_datasets(champion_run.id) if u.role == "training"]
    if not uses:
        return []
    profile = uses[0].dataset.profile.get("columns", {})
    out = []
    for col in train.columns:
        ref = reference_from_profile(profile[col]) if col in profile else None
        psi = column_drift(ref, train[col]).get("psi") if ref is not None else None
        if psi is not None:
            status = "alert" if psi > PSI_ALERT else "warn" if psi > PSI_WARN else "ok"
            out.append({"column": str(col), "psi": float(psi), "status": status})
    return sorted(out, key=lambda d: -d["psi"])


def pr_report(spec: PipelineSpec, *, run_id: str | None = None, env: str | None = None) -> PrReport:
    """Compare the candidate of a pipeline run (default: the latest) with the holder of
    `env`'s alias (default: the last environment) under that environment's gate."""
    from loopline.models import load_model as load_package
    from loopline.models import save_model
    from loopline.registry import compute_evaluation, load_model

    store, artifacts = open_metadata_store(), open_artifact_store()
    run = store.get_run(run_id) if run_id else latest_pipeline_run(store, spec)
    env = _environment(spec, env)
    alias = spec.environments[env].alias_name
    notes: list[str] = []
    output = _RunOutputs(StepCache(store, artifacts), run.id, notes)
    register = next((s for s in spec.steps.values() if s.uses == "register"), None)
    promote = next((s for s in spec.steps.values() if s.uses == "promote" and s.to == env), None)
    reg_inputs = register.inputs if register else {}
    model, signature = output(reg_inputs.get("model")), output(reg_inputs.get("signature"))
    metrics = dict(output(reg_inputs.get("metrics")) or {})
    holdout = output(promote.inputs.get("data")) if promote else None
    train = output(reg_inputs.get("train"))
    champion = _champion(store, spec, alias, notes)
    champ_metrics = dict(champion.metrics) if champion else None
    if model is not None and holdout is not None and spec.target:
        package = save_model(model, artifacts, signature=signature)
        metrics |= compute_evaluation(
            load_package(artifacts, package.sha256), holdout, spec.target
        )[1]
        if champion is not None:
            champ_metrics = compute_evaluation(load_model(champion.uri), holdout, spec.target)[1]
    validation = _validation_tags(spec, output)
    decision = _dry_run_gate(spec, env, metrics, champ_metrics, validation, notes)
    drift = (
        _drift(train, store.get_run(champion.run_id), store)
        if champion is not None and isinstance(train, pd.DataFrame)
        else []
    )
    return PrReport(
        spec.name,
        _run_info(spec, run),
        env,
        alias,
        champion.uri.removeprefix("models:/") if champion else None,
        metrics,
        champ_metrics,
        decision,
        drift,
        notes,
    )


def _environment(spec: PipelineSpec, env: str | None) -> str:
    """`env`, or the last environment when none is named; NotFoundError if there is none."""
    env = env or (list(spec.environments)[-1] if spec.environments else None)
    if env is None or env not in spec.environments:
        raise NotFoundError(
            f"pipeline {spec.name!r} has no environment {env!r}",
            hint=f"environments: {', '.join(spec.environments) or 'none'}",
        )
    return env


class _RunOutputs:
    """A pipeline run's step outputs by reference (`step.output`), loaded from the step
    cache; a missing one is None and says so in `notes`."""

    def __init__(self, cache: StepCache, run_id: str, notes: list[str]) -> None:
        self.cache, self.run_id, self.notes = cache, run_id, notes

    def __call__(self, ref: str | None) -> Any:
        if ref is None:
            return None
        step, name = ref.split(".")
        found = self.cache.outputs_of(self.run_id, step).get(name)
        if found is None:
            self.notes.append(f"run {self.run_id[:8]} has no output {ref} (did step {step!r} run?)")
        return self.cache.load(found) if found else None


def _champion(
    store: MetadataStore, spec: PipelineSpec, alias: str, notes: list[str]
) -> ModelVersion | None:
    """The version holding `alias`, or None (noted) while it holds none."""
    if not spec.model:
        return None
    try:
        return store.get_version_by_alias(spec.model, alias)
    except NotFoundError:
        notes.append(f"{spec.model}@{alias} holds no version yet: rules on the champion skip")
        return None


def _validation_tags(spec: PipelineSpec, output: _RunOutputs) -> dict[str, Any]:
    """`validation.<contract>` = the verdict of each validate step of the run."""
    validation = {}
    for name, step in spec.steps.items():
        if step.uses == "validate":
            rep = output(f"{name}.report")
            if rep:
                validation[f"validation.{rep.get('contract') or name}"] = rep.get("verdict", "")
    return validation


def _dry_run_gate(
    spec: PipelineSpec,
    env: str,
    metrics: dict[str, Any],
    champ_metrics: dict[str, Any] | None,
    validation: dict[str, Any],
    notes: list[str],
) -> GateDecision | None:
    """The environment's gate on the candidate, without its approvals (those come at
    release, which a note says); None (noted) when there is nothing to decide on."""
    policy = spec.gate_policy(env)
    dry = GatePolicy(policy.name, policy.rules, policy.require_validation)  # approvals: at release
    decision = None
    if metrics:
        try:
            decision = PromotionGate(dry).decide(metrics, champ_metrics, validation=validation)
        except LooplineError as exc:
            notes.append(exc.one_line())
    else:
        notes.append("the run produced no candidate metrics")
    if policy.approvals_count:
        notes.append(f"{env} also needs {policy.approvals_count} approval(s) at release")
    return decision


def _run_info(spec: PipelineSpec, run: Run) -> dict[str, Any]:
    return {
        "id": run.id,
        "status": run.status,
        "trigger": run.tags.get("trigger", ""),
        "commit": run.lineage.git_commit,
        "steps": {n: run.tags[f"step.{n}"] for n in spec.steps if f"step.{n}" in run.tags},
    }


__all__ = ["PSI_ALERT", "PSI_WARN", "PrReport", "latest_pipeline_run", "pr_report"]
