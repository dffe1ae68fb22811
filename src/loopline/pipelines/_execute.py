"""Executing one step: inputs decoded from the artifact store, a Python function or a
built-in called with its logs captured, retries with exponential backoff, outputs stored."""

from __future__ import annotations

import contextlib
import io
import logging
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from loopline._version import __version__
from loopline.errors import InvalidInputError, LooplineError
from loopline.pipelines._builtin import BUILTIN_STEPS, Outcome, StepContext
from loopline.pipelines._cache import StepCache, StoredOutput, cache_key
from loopline.pipelines._code import check_signature, code_hash, resolve_function
from loopline.pipelines._results import StepEvent, StepResult
from loopline.pipelines._spec import PipelineSpec, StepSpec
from loopline.store import open_artifact_store, open_metadata_store


class StepExecutor:
    """The state of one pipeline run: step functions, outputs so far, results."""

    def __init__(
        self,
        spec: PipelineSpec,
        params: dict[str, Any],
        forced: set[str],
        on_event: Callable[[StepEvent], None],
    ) -> None:
        self.spec, self.params, self.forced = spec, params, forced
        self.on_event = on_event
        self.store = open_metadata_store()
        self.artifacts = open_artifact_store()
        self.cache = StepCache(self.store, self.artifacts)
        self.outputs: dict[str, dict[str, StoredOutput]] = {}
        self.results: dict[str, StepResult] = {}
        self.functions: dict[str, Callable[..., Any]] = {}

    def load_functions(self, names: set[str]) -> None:
        """Import every Python step up front: a typo fails before anything runs."""
        for name in names:
            step = self.spec.steps[name]
            if step.run is not None:
                where = f"{self.spec.source}: step {name!r}"
                func = resolve_function(step.run, self.spec.path("."), where)
                check_signature(func, [*step.inputs, *step.params], where)
                self.functions[name] = func

    def code_of(self, step: StepSpec) -> str:
        if step.run is not None:
            return code_hash(self.functions[step.name])
        extra = ""
        if step.uses == "validate" and self.spec.contract:
            extra = self.spec.path(self.spec.contract).read_text(encoding="utf-8")
        return f"{step.uses}:{__version__}:{self.spec.model}:{step.to}:{extra}"

    def key_of(self, step: StepSpec) -> str:
        inputs = {
            arg: self.outputs[ref.split(".")[0]][ref.split(".")[1]].sha256
            for arg, ref in step.inputs.items()
        }
        params = {p: self.params[p] for p in step.params}
        return cache_key(step.kind, self.code_of(step), inputs, params, step.output_names)

    def value(self, ref: str) -> Any:
        up, out = ref.split(".")
        return self.cache.load(self.outputs[up][out])

    def load_upstream(self, step: StepSpec, run_id: str) -> StepResult:
        """Outputs of a step `--from` skips: a promote step's is its alias holder now; any
        other's come from the cache for the current code, inputs and params."""
        if step.uses == "promote":
            assert self.spec.model is not None and step.to is not None
            alias = self.spec.environments[step.to].alias_name
            held = self.store.get_version_by_alias(self.spec.model, alias)
            stored = {"version": self.cache.put(held.version, "version")}
            self.cache.record(run_id, step.name, None, stored)
            self.outputs[step.name] = stored
            note = f"v{held.version} @{alias}"
            return StepResult(step.name, step.kind, "loaded", note=note, outputs=stored)
        if step.run is None or step.name not in self.functions:
            self.load_functions({step.name})
        hit = self.cache.lookup(self.key_of(step), step.output_names)
        if hit is None:
            raise InvalidInputError(
                f"step {step.name!r} has no cached outputs for the current code and params",
                hint="run the pipeline once without --from so the steps before it are cached",
            )
        self.cache.record(run_id, step.name, self.key_of(step), hit[1], cached_from=hit[0])
        self.outputs[step.name] = hit[1]
        return StepResult(step.name, step.kind, "loaded", cached_from=hit[0], outputs=hit[1])

    def call(self, step: StepSpec, ctx: StepContext) -> Outcome:
        inputs = {arg: self.value(ref) for arg, ref in step.inputs.items()}
        if step.uses is not None:
            return BUILTIN_STEPS[step.uses](ctx, inputs)
        kwargs = {**inputs, **{p: self.params[p] for p in step.params}}
        return Outcome(_as_outputs(step, self.functions[step.name](**kwargs)))

    def execute(self, step: StepSpec, ctx: StepContext, index: int, total: int) -> StepResult:
        """Call the step, retrying if it is retryable. Its prints, warnings and log records
        (as far as the logging configuration lets them through) go to its log artifact;
        stdout is redirected process-wide, so run steps from one thread at a time."""
        attempts = 1 + (step.retries if step.retryable else 0)
        log = io.StringIO()
        handler = logging.StreamHandler(log)
        t0 = time.perf_counter()
        for attempt in range(1, attempts + 1):
            root = logging.getLogger()
            root.addHandler(handler)
            try:
                with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                    outcome = self.call(step, ctx)
                stored = {n: self.cache.put(v, n) for n, v in outcome.outputs.items()}
                result = StepResult(
                    step.name,
                    step.kind,
                    outcome.status,
                    attempts=attempt,
                    note=outcome.note,
                    outputs=stored,
                )
                break
            except Exception as exc:
                log.write(traceback.format_exc())
                error = (
                    exc.one_line()
                    if isinstance(exc, LooplineError)
                    else f"{type(exc).__name__}: {exc}"
                )
                result = StepResult(
                    step.name, step.kind, "failed", attempts=attempt, error=error[:4000]
                )
                if attempt < attempts:
                    delay = min(step.backoff_s * 2 ** (attempt - 1), 60.0)
                    log.write(f"--- attempt {attempt} failed; retrying in {delay:g}s ---\n")
                    self.on_event(
                        StepEvent(
                            step.name,
                            "retry",
                            f"attempt {attempt}/{attempts} "
                            f"failed ({error[:200]}); retrying in {delay:g}s",
                            index,
                            total,
                        )
                    )
                    time.sleep(delay)
            finally:
                root.removeHandler(handler)
        result.seconds = time.perf_counter() - t0
        if log.getvalue() or result.status == "failed":
            self.cache.record_log(ctx.run.id, step.name, log.getvalue())
        return result


def _as_outputs(step: StepSpec, value: Any) -> dict[str, Any]:
    names = step.output_names
    if not names:
        return {}
    if len(names) == 1:
        return {names[0]: value}
    if isinstance(value, Mapping) and set(value) == set(names):
        return {n: value[n] for n in names}
    if isinstance(value, tuple | list) and len(value) == len(names):
        return dict(zip(names, value, strict=True))
    raise InvalidInputError(
        f"step {step.name!r} returned {type(value).__name__}, not its outputs {names}",
        hint="return a dict with exactly those keys, or a tuple in that order",
    )


__all__ = ["StepExecutor"]
