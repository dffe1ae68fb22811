"""Running a pipeline: topological order, cached steps, retries, a tracked run.

Every pipeline run is a tracked run in the experiment named after the pipeline, tagged with
why it started (`trigger`, `trigger.reason`) and why it did or did not promote (`promotion`,
`promotion.reason`, `promotion.<env>`), plus `step.<name>` = the status of each step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loopline.errors import InvalidInputError, LooplineError
from loopline.pipelines._builtin import StepContext
from loopline.pipelines._execute import StepExecutor
from loopline.pipelines._graph import ancestors, descendants, topological_order
from loopline.pipelines._results import (
    PipelineResult,
    StepEvent,
    StepResult,
    promotion_summary,
)
from loopline.pipelines._spec import PipelineSpec, StepSpec

if TYPE_CHECKING:
    from loopline.tracking import ActiveRun

TRIGGER_KINDS = ("manual", "schedule", "drift", "performance", "new-data", "ci")
_BAD = ("failed", "skipped", "rejected")


def resolve_params(spec: PipelineSpec, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    unknown = sorted(set(overrides or {}) - set(spec.params))
    if unknown:
        raise InvalidInputError(
            f"pipeline {spec.name!r} has no param(s) {', '.join(unknown)}",
            hint=f"declared params: {', '.join(spec.params) or 'none'} (see 'params:' in "
            f"{spec.source})",
        )
    return {**spec.params, **dict(overrides or {})}


def plan(
    spec: PipelineSpec, from_step: str | None, to_steps: tuple[str, ...] = ()
) -> tuple[list[str], set[str], set[str]]:
    """(order, steps to execute, upstream steps whose outputs are loaded instead)."""
    for name in (from_step, *to_steps):
        if name is not None:
            spec.step(name)
    order = topological_order(spec)
    selected = ancestors(spec, to_steps) if to_steps else set(order)
    execute = selected & descendants(spec, from_step) if from_step else selected
    # Inputs of the executed steps come from the cache, which needs their own inputs' hashes
    # in turn; a promote step's output is its alias holder, so the chain stops there.
    needed: set[str] = set()
    todo = [u for s in execute for u in spec.steps[s].upstream]
    while todo:
        up = todo.pop()
        if up not in execute and up not in needed:
            needed.add(up)
            if spec.steps[up].uses != "promote":
                todo.extend(spec.steps[up].upstream)
    return [s for s in order if s in execute | needed], execute, needed


_SPEC_MAX_BYTES = 1 << 20


def _record_spec(spec: PipelineSpec, run_id: str, runner: StepExecutor) -> None:
    """Keep the spec the run followed as a sha256-addressed artifact: the web UI draws a
    run's pipeline from it (it never opens a path taken from a tag)."""
    path = Path(spec.source)
    if not path.is_file() or path.stat().st_size > _SPEC_MAX_BYTES:
        return
    digest, size = runner.artifacts.put_bytes(path.read_bytes())
    runner.store.record_artifact(run_id, "pipeline/loopline.yaml", "pipeline-spec", digest, size)


def run_pipeline(
    spec: PipelineSpec,
    *,
    params: Mapping[str, Any] | None = None,
    from_step: str | None = None,
    to_steps: tuple[str, ...] = (),
    trigger: str = "manual",
    reason: str | None = None,
    tags: Mapping[str, str] | None = None,
    on_event: Callable[[StepEvent], None] | None = None,
) -> PipelineResult:
    """Run `spec` as one tracked run; failures are recorded and returned, not raised
    (mistakes in the spec or the params raise before the run starts)."""
    from loopline.tracking import start_run

    if trigger not in TRIGGER_KINDS:
        raise InvalidInputError(f"unknown trigger {trigger!r}", hint=f"use one of {TRIGGER_KINDS}")
    resolved = resolve_params(spec, params)
    order, execute, needed = plan(spec, from_step, to_steps)
    forced = {from_step} if from_step else set()
    runner = StepExecutor(spec, resolved, forced, on_event or (lambda e: None))
    runner.load_functions({s for s in execute if spec.steps[s].run is not None})
    why = reason or {"manual": "started by hand", "ci": "started by CI"}.get(trigger, trigger)
    base_tags = {
        "loopline.kind": "pipeline",
        "loopline.pipeline": spec.name,
        "trigger": trigger,
        "trigger.reason": why,
        "pipeline.file": spec.source,
        **dict(tags or {}),
    }
    plain = {
        k: v if isinstance(v, str | int | float | bool) or v is None else str(v)
        for k, v in resolved.items()
    }
    total = len(order)
    with start_run(spec.name, plain, base_tags, name=f"{spec.name} ({trigger})") as run:
        _record_spec(spec, run.id, runner)
        for index, name in enumerate(order, 1):
            step = spec.steps[name]
            result = _step_result(runner, step, run, (index, total), name in needed, trigger, why)
            runner.results[name] = result
            if result.status not in _BAD:
                runner.outputs[name] = result.outputs
            message = result.error or result.note or ""
            runner.on_event(StepEvent(name, result.status, message, index, total, result.seconds))
        results = [runner.results[n] for n in order]
        promotion, promotion_reason, per_env = promotion_summary(spec, results)
        failed = next((r for r in results if r.status == "failed"), None)
        promoted = {"promotion": promotion, "promotion.reason": promotion_reason[:4000], **per_env}
        final = _final_tags(runner, results, promoted, failed)
        run.set_tags(final)
        status = "failed" if failed else "finished"
        if failed is not None:
            run.end("failed", f"step {failed.name!r} failed: {failed.error}"[:4000])
    candidate = run_candidate(final)
    return PipelineResult(
        spec.name, run.id, status, trigger, why, results, promotion, promotion_reason, candidate
    )


def _step_result(
    runner: StepExecutor,
    step: StepSpec,
    run: ActiveRun,
    position: tuple[int, int],
    load_only: bool,
    trigger: str,
    why: str,
) -> StepResult:
    """One step's result: skipped behind a failed upstream, its outputs loaded from the
    cache (an upstream of `--from`), or run (`position` is its (index, total) in the run)."""
    # (A promote step loaded for --from has no upstream in this run: nothing blocks it.)
    blocked = [u for u in step.upstream if u in runner.results and runner.results[u].status in _BAD]
    if blocked:
        up = runner.results[blocked[0]]
        return StepResult(step.name, step.kind, "skipped", note=f"{up.name} {up.status}")
    if load_only:
        try:
            return runner.load_upstream(step, run.id)
        except LooplineError as exc:
            return StepResult(step.name, step.kind, "failed", error=exc.one_line())
    index, total = position
    runner.on_event(StepEvent(step.name, "start", step.kind, index, total))
    spec = runner.spec
    validated = {
        a for a, r in step.inputs.items() if spec.steps[r.split(".")[0]].uses == "validate"
    }
    ctx = StepContext(
        spec, step, run, runner.store, runner.artifacts, trigger, runner.params, validated, why
    )
    return _run_one(runner, step, ctx, index, total, run.id)


def _final_tags(
    runner: StepExecutor,
    results: list[StepResult],
    promoted: dict[str, str],
    failed: StepResult | None,
) -> dict[str, str]:
    """The run's closing tags: `step.<name>` = each step's status, then the `promoted`
    ones, the candidate version a register step made and the failed step, if any."""
    final = {f"step.{r.name}": r.status for r in results}
    final |= promoted
    for r in results:  # a cached register step still names the candidate of this run
        if runner.spec.steps[r.name].uses == "register" and "version" in r.outputs:
            final["candidate"] = f"{runner.spec.model}/{runner.cache.load(r.outputs['version'])}"
    if failed is not None:
        final["failed_step"] = failed.name
    return final


def _run_one(
    runner: StepExecutor, step: StepSpec, ctx: StepContext, index: int, total: int, run_id: str
) -> StepResult:
    cacheable = step.cache and step.uses != "promote"
    key = runner.key_of(step) if cacheable else None
    if key is not None and step.name not in runner.forced:
        hit = runner.cache.lookup(key, step.output_names)
        if hit is not None:
            runner.cache.record(run_id, step.name, key, hit[1], cached_from=hit[0])
            if step.uses == "validate":  # the verdict stays on this run's record too
                report = runner.cache.load(hit[1]["report"])
                name = report.get("contract") or step.name
                ctx.run.set_tags({f"validation.{name}": str(report.get("verdict", ""))})
            return StepResult(
                step.name,
                step.kind,
                "cached",
                cached_from=hit[0],
                outputs=hit[1],
                note=f"from run {hit[0][:8]}",  # the status already says "cached",
            )
    result = runner.execute(step, ctx, index, total)
    if result.status not in _BAD:
        runner.cache.record(run_id, step.name, key, result.outputs)
    return result


def run_candidate(tags: Mapping[str, str]) -> int | None:
    text = tags.get("candidate", "")
    return int(text.rpartition("/")[2]) if text.rpartition("/")[2].isdigit() else None


__all__ = ["TRIGGER_KINDS", "plan", "resolve_params", "run_candidate", "run_pipeline"]
