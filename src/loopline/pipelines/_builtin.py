"""The built-in step types: `validate` (the pipeline's contract), `register` (a candidate
run + a registry version) and `promote` (gate, then move an environment's alias or start a
rollout). Python steps are plain functions; these three write the lifecycle's records."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from loopline.config import current_user
from loopline.errors import LooplineError, NotFoundError
from loopline.pipelines._spec import PipelineSpec, StepSpec
from loopline.store import ArtifactStore, MetadataStore, ModelVersion
from loopline.tracking import ActiveRun

_SPECIAL_INPUTS = ("model", "metrics", "signature")


@dataclass
class StepContext:
    spec: PipelineSpec
    step: StepSpec
    run: ActiveRun  # the pipeline run
    store: MetadataStore
    artifacts: ArtifactStore
    trigger: str
    params: dict[str, Any]
    validated_inputs: set[str] = field(default_factory=set)  # inputs from a validate step
    reason: str = ""  # why the run started, carried into the alias moves it makes


@dataclass(frozen=True)
class Outcome:
    outputs: dict[str, Any]
    status: str = "ok"  # ok | promoted | rejected | unchanged | deploying
    note: str = ""


def _frame(data: Any, where: str) -> pd.DataFrame:
    from loopline.data import as_frame

    try:
        return as_frame(data)
    except LooplineError as exc:
        raise type(exc)(f"{where}: {exc.message}", hint=exc.hint) from None


def validate_step(ctx: StepContext, inputs: Mapping[str, Any]) -> Outcome:
    """Check the data against the pipeline's contract: the report is kept on the pipeline
    run (artifact + `validation.<name>` tag); an `error` rule stops the pipeline, naming the
    column and rule; rows that break `quarantine` rules are set aside."""
    from loopline.data import fingerprint, load_contract, validate_for_run

    assert ctx.spec.contract is not None  # the spec loader checked it
    contract = load_contract(ctx.spec.path(ctx.spec.contract))
    df = _frame(inputs["data"], f"step {ctx.step.name!r}")
    name = contract.name or ctx.step.name
    report = validate_for_run(
        df, contract, name, fingerprint(df), ctx.run.id, ctx.store, ctx.artifacts
    )
    clean = report.split(df)[0] if report.quarantined_rows else df
    # Registering the accepted batch as a dataset version feeds the row-count trend rule.
    ctx.run.log_dataset(df, name=name, role="input")
    # The step's status already says it passed: the note starts at the counts. A warning
    # verdict keeps its word, which the status does not carry.
    note = report.summary().removeprefix("passed: ")
    return Outcome({"data": clean, "report": json.loads(report.to_json())}, note=note)


def git_commit_time() -> float | None:
    """Commit time of HEAD (for DORA lead time), or None outside a git checkout."""
    try:
        out = subprocess.run(
            ["git", "show", "-s", "--format=%ct", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    text = out.stdout.strip()
    return float(text) if out.returncode == 0 and text.isdigit() else None


def _plain(params: Mapping[str, Any]) -> dict[str, str | int | float | bool | None]:
    return {
        k: v if v is None or isinstance(v, str | int | float | bool) else json.dumps(v)
        for k, v in params.items()
    }


def register_step(ctx: StepContext, inputs: Mapping[str, Any]) -> Outcome:
    """Log the candidate as its own run (model, metrics, datasets, params, commit time),
    register it as the next version, and put it in the step's `to` environment."""
    from loopline.data import fingerprint as fp
    from loopline.data import load_contract, validate_for_run
    from loopline.registry import register_model
    from loopline.tracking import start_run

    spec, model_name = ctx.spec, ctx.spec.model
    assert model_name is not None
    metrics = {k: float(v) for k, v in dict(inputs.get("metrics") or {}).items()}
    tags = {
        "loopline.kind": "candidate",
        "loopline.pipeline": spec.name,
        "loopline.pipeline_run": ctx.run.id,
        "trigger": ctx.trigger,
    }
    commit_time = git_commit_time()
    if commit_time is not None:
        tags["git.commit_time"] = f"{commit_time:.0f}"
    contract = load_contract(spec.path(spec.contract)) if spec.contract else None
    with start_run(spec.name, _plain(ctx.params), tags, name=f"{spec.name}:candidate") as cand:
        for arg, value in inputs.items():
            if arg in _SPECIAL_INPUTS or not isinstance(value, pd.DataFrame):
                continue
            if contract is not None and arg in ctx.validated_inputs:
                # The gate's `require_validation` reads the candidate run's own record.
                validate_for_run(value, contract, arg, fp(value), cand.id, ctx.store, ctx.artifacts)
            cand.log_dataset(value, name=arg, role="training" if arg == "train" else arg)
        if metrics:
            cand.log_metrics(metrics)
        info = cand.log_model(inputs["model"], signature=inputs.get("signature"))
    version = register_model(info, model_name)
    ctx.run.set_tags({"candidate": f"{model_name}/{version.version}", "candidate.run": cand.id})
    note = f"registered {version.uri} from candidate run {cand.id[:8]}"
    if ctx.step.to is not None:
        alias = spec.environments[ctx.step.to].alias_name
        ctx.store.move_alias(
            model_name,
            alias,
            version.version,
            actor=current_user(),
            action="promote",
            reason=f"registered by pipeline {spec.name} run {ctx.run.id[:8]}",
        )
        note += f", now @{alias}"
    return Outcome({"version": version.version}, note=note)


def _holder(store: MetadataStore, model: str, alias: str) -> ModelVersion | None:
    try:
        return store.get_version_by_alias(model, alias)
    except NotFoundError:
        return None


def _gate_only(ctx: StepContext, version: int, alias: str, data: Any) -> tuple[bool, str]:
    """The gate of `ll.promote` without the alias move: a rollout moves it when it completes."""
    from loopline.gates import as_decision, run_gate
    from loopline.registry import evaluate_version, load_model

    store, model_name = ctx.store, ctx.spec.model
    assert model_name is not None and ctx.step.to is not None
    candidate = store.get_version(model_name, version)
    champion = _holder(store, model_name, alias)
    fingerprint = None
    if data is not None and ctx.spec.target is not None:
        ev = evaluate_version(candidate, load_model(candidate.uri), data, ctx.spec.target)
        fingerprint = ev.record.dataset_fingerprint
        if champion is not None:
            evaluate_version(champion, load_model(champion.uri), data, ctx.spec.target)
    record = run_gate(
        store,
        model_name,
        version,
        alias,
        ctx.spec.gate_policy(ctx.step.to),
        dataset_fingerprint=fingerprint,
    )
    return record.passed, as_decision(record).summary()


def promote_step(ctx: StepContext, inputs: Mapping[str, Any]) -> Outcome:
    """Gate the version against the holder of the environment's alias, then move the alias
    (strategy `direct`, or no holder yet) or start a rollout that servers carry out."""
    from loopline.gates import promote
    from loopline.serving import deploy

    spec, store, model_name = ctx.spec, ctx.store, ctx.spec.model
    assert model_name is not None and ctx.step.to is not None
    env = spec.environments[ctx.step.to]
    alias = env.alias_name
    version = inputs.get("version")
    if version is None:
        before = spec.environment_before(env.name)
        source = _holder(store, model_name, before.alias_name) if before else None
        if source is None:
            raise NotFoundError(
                f"step {ctx.step.name!r}: nothing to promote to {env.name}: no version holds "
                f"the previous environment's alias",
                hint="give the step a 'version' input, or run the steps before it first",
            )
        version = source.version
    version = int(version)
    current = _holder(store, model_name, alias)
    if current is not None and current.version == version:
        return Outcome({"version": version}, "unchanged", f"v{version} already holds @{alias}")
    why = f"pipeline {spec.name} run {ctx.run.id[:8]} ({ctx.trigger}: {ctx.reason})"
    data = inputs.get("data")
    if (
        current is not None
        and version < current.version
        and store.get_alias_policy(model_name, alias).protected
    ):
        # A re-run whose training came from the step cache offers an old version: the loop
        # never moves a protected alias backwards (the store refuses it too).
        return Outcome(
            {},
            "rejected",
            f"{env.name}: v{version} is older than v{current.version}, which holds @{alias}",
        )
    if env.deploy.strategy == "direct" or current is None:
        result = promote(
            model_name,
            version,
            alias=alias,
            policy=spec.gate_policy(env.name),
            data=data,
            target=spec.target if data is not None else None,
            reason=why,
        )
        if not result.promoted:
            return Outcome({}, "rejected", f"{env.name}: v{version} {result.decision.summary()}")
        return Outcome(
            {"version": version}, "promoted", f"{env.name}: v{version} {result.decision.summary()}"
        )
    passed, summary = _gate_only(ctx, version, alias, data)
    if not passed:
        return Outcome({}, "rejected", f"{env.name}: v{version} {summary}")
    d = deploy(
        model_name,
        version,
        strategy=env.deploy.strategy,
        alias=alias,
        steps=env.deploy.steps,
        step_duration_s=env.deploy.step_duration_s,
        gated=True,
    )
    note = f"{env.name}: v{version} {summary}; {d.strategy} rollout #{d.id} started"
    return Outcome({"version": version}, "deploying", note)


BUILTIN_STEPS = {"validate": validate_step, "register": register_step, "promote": promote_step}

__all__ = ["BUILTIN_STEPS", "Outcome", "StepContext", "git_commit_time"]
