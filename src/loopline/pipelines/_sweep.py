"""Parallel training sweeps: one pipeline, many param sets, each trial a tracked run.

`loopline pipelines run --sweep params.yaml` reads:

    grid:                 # every combination (cartesian product), in order
      C: [0.1, 1.0, 10.0]
      max_depth: [2, 3]
    trials:               # and/or explicit param sets, run after the grid's
      - {C: 0.5, max_depth: 4}
    parallel: 2           # optional: trials at a time (default: the engine's CPUs)
    env: [DATA_DIR]       # optional: environment variables the trials need (Ray workers do
                          # not inherit this process's environment; LOOPLINE_* always go)

Each trial is `run_pipeline(spec, params=trial)` in its own process (local engine: a process
pool; Ray engine: one Ray task per trial), so trials run in parallel and one trial's crash is
its own. Every trial run is tagged `sweep` (the sweep's id), `sweep.trial` (its index) and
`sweep.size`, so `loopline runs list` shows them together; its params are the run's params.
"""

from __future__ import annotations

import itertools
import os
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from loopline._yaml import safe_load
from loopline.errors import InvalidInputError, LooplineError
from loopline.pipelines._runner import TRIGGER_KINDS, resolve_params
from loopline.pipelines._spec import PipelineSpec

_KEYS = ("grid", "trials", "parallel", "env")
MAX_TRIALS = 10_000


@dataclass(frozen=True)
class SweepSpec:
    """The param sets of a sweep, in the order they are numbered."""

    trials: tuple[dict[str, Any], ...]
    parallel: int | None = None
    source: str = ""
    env: tuple[str, ...] = ()


def _bad(path: str, what: str) -> InvalidInputError:
    return InvalidInputError(
        f"sweep file {path}: {what}",
        hint="e.g. 'grid: {C: [0.1, 1.0]}' and/or 'trials: [{C: 0.5}]', optional 'parallel: 2'",
    )


def parse_sweep(data: Any, source: str = "<sweep>") -> SweepSpec:
    """A `SweepSpec` from the YAML's parsed data."""
    if not isinstance(data, dict):
        raise _bad(source, "expected a mapping with 'grid' and/or 'trials'")
    unknown = [k for k in data if k not in _KEYS]
    if unknown:
        raise _bad(source, f"unknown key {unknown[0]!r} (known: {', '.join(_KEYS)})")
    trials: list[dict[str, Any]] = []
    grid = data.get("grid") or {}
    if not isinstance(grid, dict) or not all(isinstance(v, list) and v for v in grid.values()):
        raise _bad(source, "'grid' must map each param to a non-empty list of values")
    if grid:
        names = [str(k) for k in grid]
        for combo in itertools.product(*grid.values()):
            trials.append(dict(zip(names, combo, strict=True)))
            if len(trials) > MAX_TRIALS:
                raise _bad(source, f"the grid has more than {MAX_TRIALS:,} combinations")
    listed = data.get("trials") or []
    if not isinstance(listed, list) or not all(isinstance(t, dict) for t in listed):
        raise _bad(source, "'trials' must be a list of param mappings")
    trials += [{str(k): v for k, v in t.items()} for t in listed]
    if not trials:
        raise _bad(source, "no trials: give a 'grid' or a list of 'trials'")
    parallel = data.get("parallel")
    if parallel is not None and (
        isinstance(parallel, bool) or not isinstance(parallel, int) or parallel < 1
    ):
        raise _bad(source, f"'parallel' must be a positive whole number, got {parallel!r}")
    env = data.get("env") or []
    if not isinstance(env, list) or not all(isinstance(e, str) and e for e in env):
        raise _bad(source, "'env' must be a list of environment variable names")
    return SweepSpec(tuple(trials), parallel, source, tuple(env))


def load_sweep(path: str | os.PathLike[str]) -> SweepSpec:
    """The sweep at `path` (YAML)."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise InvalidInputError(f"sweep file {p} does not exist", hint="check the path")
    try:
        data = safe_load(p.read_text(encoding="utf-8"), f"sweep file {p}")
    except yaml.YAMLError as exc:
        raise _bad(str(p), " ".join(str(exc).split())[:200]) from None
    return parse_sweep(data, str(p))


def _typed(spec: PipelineSpec, trial: Mapping[str, Any], index: int) -> dict[str, Any]:
    """The trial's params, checked against the pipeline's declared params and their types."""
    try:
        resolve_params(spec, trial)
    except InvalidInputError as exc:
        raise InvalidInputError(f"trial {index}: {exc.message}", hint=exc.hint) from None
    out: dict[str, Any] = {}
    for key, value in trial.items():
        default = spec.params[key]
        numeric = isinstance(default, int | float) and not isinstance(default, bool)
        if (isinstance(default, bool) and not isinstance(value, bool)) or (
            numeric and (isinstance(value, bool) or not isinstance(value, int | float))
        ):
            raise InvalidInputError(
                f"trial {index}: param {key}={value!r} is not of the declared type",
                hint=f"the pipeline declares {key}: {default!r}",
            )
        out[key] = float(value) if isinstance(default, float) and isinstance(value, int) else value
    return out


@dataclass(frozen=True)
class TrialResult:
    index: int
    params: dict[str, Any]
    run_id: str | None
    status: str  # finished | failed | error (the trial could not start a run)
    promotion: str
    seconds: float
    error: str | None = None


@dataclass(frozen=True)
class SweepResult:
    sweep_id: str
    pipeline: str
    engine: str
    parallel: int
    seconds: float
    trials: tuple[TrialResult, ...]

    @property
    def ok(self) -> bool:
        return all(t.status == "finished" for t in self.trials)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sweep_id": self.sweep_id,
            "pipeline": self.pipeline,
            "engine": self.engine,
            "parallel": self.parallel,
            "seconds": self.seconds,
            "ok": self.ok,
            "trials": [asdict(t) for t in self.trials],
        }


def run_trial(job: dict[str, Any]) -> dict[str, Any]:
    """One trial in a worker process: the caller's Loopline settings and folder, then one
    pipeline run. Returns plain data (it crosses a process boundary)."""
    from loopline.pipelines._load import load_pipeline
    from loopline.pipelines._runner import run_pipeline
    from loopline.store import reset_store_cache

    for key in [k for k in os.environ if k.startswith("LOOPLINE_")]:
        if key not in job["env"]:
            del os.environ[key]  # a reused worker must not keep another caller's settings
    os.environ.update(job["env"])
    os.chdir(job["cwd"])
    reset_store_cache()
    started = time.perf_counter()
    try:
        spec = load_pipeline(job["pipeline"])
        result = run_pipeline(
            spec,
            params=job["params"],
            trigger=job["trigger"],
            reason=job["reason"],
            tags=job["tags"],
        )
    except LooplineError as exc:
        return {
            "run_id": None,
            "status": "error",
            "promotion": "none",
            "error": exc.one_line(),
            "seconds": time.perf_counter() - started,
        }
    failed = next((s for s in result.steps if s.status == "failed"), None)
    return {
        "run_id": result.run_id,
        "status": result.status,
        "promotion": result.promotion,
        "error": f"step {failed.name!r} failed: {failed.error}" if failed else None,
        "seconds": time.perf_counter() - started,
    }


def run_sweep(
    spec: PipelineSpec,
    sweep: SweepSpec,
    *,
    engine: str | None = None,
    parallel: int | None = None,
    trigger: str = "manual",
    reason: str | None = None,
    on_trial: Callable[[TrialResult], None] | None = None,
) -> SweepResult:
    """Run every trial of `sweep` as its own tracked run of `spec`, `parallel` at a time, on
    the local engine (processes) or Ray (`engine="ray"`, else the `engine` setting:
    `LOOPLINE_ENGINE` or loopline.toml).
    Mistakes in the sweep or its params raise before any trial starts; a failing trial is
    recorded in its result, not raised."""
    from loopline.batch._engine import ENGINES
    from loopline.config import load_settings

    name = engine or load_settings().engine.strip() or "local"
    if name not in ENGINES:
        raise InvalidInputError(
            f"unknown compute engine {name!r}", hint="use 'local' (processes) or 'ray'"
        )
    if trigger not in TRIGGER_KINDS:
        raise InvalidInputError(f"unknown trigger {trigger!r}", hint=f"use one of {TRIGGER_KINDS}")
    params = [_typed(spec, t, i) for i, t in enumerate(sweep.trials)]
    sweep_id = uuid.uuid4().hex[:12]
    why = reason or f"sweep {sweep_id} ({len(params)} trials)"
    env = {k: v for k, v in os.environ.items() if k.startswith("LOOPLINE_") or k in sweep.env}
    jobs = [
        {
            "pipeline": str(Path(spec.source).resolve()),
            "params": p,
            "trigger": trigger,
            "reason": why,
            "tags": {"sweep": sweep_id, "sweep.trial": str(i), "sweep.size": str(len(params))},
            "env": env,
            "cwd": os.getcwd(),
        }
        for i, p in enumerate(params)
    ]
    started = time.perf_counter()
    results: dict[int, TrialResult] = {}

    def done(i: int, out: Mapping[str, Any]) -> None:
        results[i] = TrialResult(i, params[i], **out)
        if on_trial is not None:
            on_trial(results[i])

    if name == "ray":
        width = _run_on_ray(jobs, parallel or sweep.parallel, done)
    else:
        width = parallel or sweep.parallel or os.cpu_count() or 1
        width = max(1, min(width, len(jobs)))
        # spawn: a fresh interpreter per worker, no copy of this process's threads or store
        with ProcessPoolExecutor(width, mp_context=get_context("spawn")) as pool:
            futures = {pool.submit(run_trial, job): i for i, job in enumerate(jobs)}
            for future in as_completed(futures):
                done(futures[future], future.result())
    return SweepResult(
        sweep_id,
        spec.name,
        name,
        width,
        time.perf_counter() - started,
        tuple(results[i] for i in range(len(jobs))),
    )


def _run_on_ray(
    jobs: Sequence[dict[str, Any]],
    parallel: int | None,
    done: Callable[[int, Mapping[str, Any]], None],
) -> int:
    from loopline.batch._ray import connect, unwrap

    ray = connect()
    width = parallel or max(1, int(ray.cluster_resources().get("CPU", 1)))
    remote = ray.remote(num_cpus=1, max_retries=0)(run_trial)
    pending: dict[Any, int] = {}
    queue = list(enumerate(jobs))
    while queue or pending:
        while queue and len(pending) < width:
            i, job = queue.pop(0)
            pending[remote.remote(job)] = i
        ready, _ = ray.wait(list(pending), num_returns=1)
        i = pending.pop(ready[0])
        try:
            done(i, ray.get(ready[0]))
        except Exception as exc:  # the worker died: the trial failed, the sweep goes on
            err = unwrap(exc)
            why = err.one_line() if isinstance(err, LooplineError) else type(err).__name__
            done(
                i,
                {
                    "run_id": None,
                    "status": "error",
                    "promotion": "none",
                    "error": why,
                    "seconds": 0.0,
                },
            )
    return width


__all__ = [
    "SweepResult",
    "SweepSpec",
    "TrialResult",
    "load_sweep",
    "parse_sweep",
    "run_sweep",
    "run_trial",
]
