"""Benchmark harness: Loopline side by side with its peers, results written to BENCHMARKS.md.

    python benchmarks/run.py [--only tracking] [--quick]      (``make bench`` runs this)

Each benchmark is a folder ``benchmarks/<name>/`` holding ``loopline_side.py`` (run with this
interpreter, i.e. the product venv) and ``peer_side.py`` (run with the peer's own venv, built
here from its requirements file). Each side runs as a subprocess in a fresh temporary directory
and prints one JSON object on its last stdout line. Sides run one after the other, never
concurrently, so they never compete for the CPU.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console  # a dependency of loopline, so always in the product venv
from rich.markdown import Markdown
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
CONSOLE = Console()
REPORT = ROOT / "BENCHMARKS.md"
MARKER = ".requirements.sha256"  # inside a venv: hash of the requirements it was built from
TIMES = "\N{MULTIPLICATION SIGN}"
SECTION_RE = re.compile(
    r"<!-- bench:(?P<name>[\w-]+):start -->.*?<!-- bench:(?P=name):end -->\n?", re.S
)


@dataclass(frozen=True)
class Peer:
    """A tool Loopline is compared with, and the venv its side runs in."""

    name: str
    # under benchmarks/; clashing pins get their own, e.g. ".venv-evidently"; None: this
    # interpreter (the product venv), for peers made of Loopline's own dependencies
    venv: str | None = ".venv"
    requirements: str = "requirements.txt"  # under benchmarks/, e.g. "requirements-evidently.txt"
    env: Mapping[str, str] = field(default_factory=dict)
    unset_env: tuple[str, ...] = ()
    script: str = "peer_side.py"  # in the benchmark's folder
    # A fixed reference instead of a tool: no side runs, every case of the Loopline side is
    # compared with this many seconds (e.g. a latency budget); ratio >= 1 is within it.
    budget: float | None = None


@dataclass(frozen=True)
class Variant:
    """One configuration of the peer side, one table row per case; ``args`` go to peer_side.py."""

    label: str = ""
    args: tuple[str, ...] = ()
    peer: Peer | None = None  # another tool than the benchmark's peer (its own venv)
    script: str = ""  # default: the peer's script


@dataclass(frozen=True)
class Benchmark:
    name: str  # folder under benchmarks/
    title: str
    peer: Peer
    description: str  # markdown: what each case does
    variants: tuple[Variant, ...] = (Variant(),)
    folder: str = ""  # under benchmarks/; defaults to `name` (several peers may share one)
    script: str = "loopline_side.py"  # the Loopline side, in the folder
    args: tuple[str, ...] = ()  # extra arguments for the Loopline side
    ours: str = "Loopline"  # column heading of the reference side, e.g. "local engine"


MLFLOW = Peer(
    "MLflow",
    env={"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "GIT_PYTHON_REFRESH": "quiet"},
    # Synchronous logging (MLflow's default) and no inherited tracking server.
    unset_env=("MLFLOW_ENABLE_ASYNC_LOGGING", "MLFLOW_TRACKING_URI"),
)

PANDERA = Peer(
    "Pandera",
    venv=".venv-pandera",
    requirements="validation/requirements-pandera.txt",
    script="pandera_side.py",
)
GX = Peer(
    "Great Expectations",
    venv=".venv-gx",
    requirements="validation/requirements-gx.txt",
    script="gx_side.py",
    env={"GX_ANALYTICS_ENABLED": "False", "TQDM_DISABLE": "1"},
)
VALIDATION = (
    "- `arrow_strings`: 1,000,000 rows x 26 columns (`id` unique int64 drawn at random over 63 "
    "bits, 20 float64, 5 ten-level text columns as pandas 3's default Arrow-backed `str`); 78 "
    "checks (dtype and not-null on every column, `id` unique, a range per float, an allowed set "
    "per text column) plus the exact column list. Clean data; schema/suite built untimed.\n"
    "- `arrow_strings_1_thread`: the same, Loopline's column pool pinned to one thread. "
    "Loopline otherwise checks columns on min(4, cores) threads (2 on this machine); the peers "
    "have no parallel option for pandas and always run in one thread, so their figure here is "
    "the same workload run again.\n"
    "- `arrow_strings_dense_ids`: `id` a shuffled 0..n-1 instead: a uniqueness check can take a "
    "shortcut on it (min, max and length prove it), so this row flatters whoever takes it; "
    "shown only for comparison with earlier tables.\n"
    "- `object_strings`: as `arrow_strings` with text as Python `str` objects (`object` dtype), "
    "the storage behind the issue's reference figures.\n"
    "- Peers at their fastest documented settings: Pandera `validate(lazy=True, inplace=True)` "
    '(no copy of the frame), Great Expectations `result_format="BOOLEAN_ONLY"`.\n'
    "- Peak memory = the highest resident memory during one validation minus resident memory "
    "just before it (Linux)."
)

SERVING_BARE = Peer("bare Starlette", venv=None)  # the floor, on Loopline's own HTTP stack
BENTOML = Peer(
    "BentoML",
    venv=".venv-bentoml",
    requirements="serving/requirements-bentoml.txt",
    env={"BENTOML_DO_NOT_TRACK": "True"},
)

# Peers made of Loopline itself or its own dependencies (product venv): another store backend,
# another compute engine, the in-memory way, a budget.
LOOPLINE_SQLITE = Peer("Loopline on SQLite", venv=None)
LOOPLINE_ITSELF = Peer("Loopline", venv=None)  # another configuration of the same server
RAY_ENGINE = Peer("Ray engine", venv=None)
IN_MEMORY = Peer("whole frame in pandas", venv=None)
UI_BUDGET = Peer("500 ms budget", venv=None, budget=0.5)
STORE_BUDGET = Peer("50 ms budget", venv=None, budget=0.05)  # issue 18's bound for the sort
CLI_BUDGET = Peer("400 ms budget", venv=None, budget=0.4)  # issue 18's bound for a command

BENCHMARKS: dict[str, Benchmark] = {
    b.name: b
    for b in (
        Benchmark(
            "tracking",
            "Experiment tracking ingest",
            MLFLOW,
            "- `single_call_loop`: one run, 10,000 points logged one call at a time "
            "(`run.log_metric` / `mlflow.log_metric`), from run start to run end.\n"
            "- `batch_10x1000`: one run, 10,000 points: 1,000 steps of 10 keys "
            "(`run.log_metrics`) vs 10 `MlflowClient.log_batch` calls of 1,000 points.\n"
            "- `runs_200x10x10`: 200 runs, each with 10 params and 10 metrics.\n"
            "- Imports and store creation are not timed (an untimed warm-up run on both sides).\n"
            "- MLflow with no tracking URI set: MLflow 3's default store, SQLite in the cwd (its "
            "`./mlruns` file store is in maintenance mode and refuses to start unless opted "
            "in). Two configurations: synchronous logging (its default) and its asynchronous "
            "logging (`mlflow.config.enable_async_logging()`), whose run end waits for the "
            "queue to drain, as Loopline's waits for its last buffered write.",
            (
                Variant("sync logging (default)"),
                Variant("async logging", ("--async-logging",)),
            ),
        ),
        Benchmark(
            "drift",
            "Drift statistics over every column",
            Peer(
                "Evidently",
                venv=".venv-evidently",
                requirements="drift/requirements-evidently.txt",
                env={"DO_NOT_TRACK": "1", "EVIDENTLY_DISABLE_TELEMETRY": "1"},
            ),
            "Reference and current frames of 1,000,000 rows x 20 floats + 5 strings, some "
            "shifted; both sides get the same frames, text stored alike (Evidently's venv runs "
            "pandas 2.3, which has pandas 3's Arrow-backed `str`). Loopline computes all five "
            "statistics for every column (KS with exact scipy-equal p-value, PSI, JS, "
            "Wasserstein for floats; chi-square, PSI, JS for strings) on a pool of one thread "
            "per core; Evidently runs `DataDriftPreset` with its own choice of tests or a forced "
            "one, in one thread (it has no parallel option).\n"
            "- `raw_1m_x_25`: both raw frames in, text as Arrow-backed `str` on both sides.\n"
            "- `raw_1m_x_25_object`: the same with text as Python `str` objects (`object` "
            "dtype) on both sides; default preset only.\n"
            "- `prepared_1m_x_25`: Loopline's reference prepared once (a monitor keeps it per "
            "model version), so only the current frame is scanned; the preparation is not in "
            "this time (it is in the notes).\n"
            "- `prepared_with_prep_1m_x_25`: the preparation and the scan timed together: the "
            "first window of a new model version. Evidently has no prepared mode: both "
            "`prepared_*` rows compare with its raw run.\n"
            "- `wide_100k_x_1000`: 100,000 rows x 1,000 floats, every column timed on both "
            "sides in one run (Evidently stopped after an hour, and the row says so if that "
            "happens); takes about ten minutes: the full run only, `--quick` times 10,000 "
            "rows x 100 columns on both sides.",
            (
                Variant("default preset", ("--method", "default")),
                Variant("KS / chi-square", ("--method", "ks-chisquare")),
                Variant("PSI", ("--method", "psi")),
            ),
        ),
        Benchmark(
            "validation", "Data validation, 1M rows x 26 columns, 78 checks", PANDERA, VALIDATION
        ),
        Benchmark(
            "validation-gx", "Data validation, same workload", GX, VALIDATION, folder="validation"
        ),
        Benchmark(
            "batch",
            "Batch scoring, 1,000,000 rows",
            Peer("raw scikit-learn predict_proba", venv=None),
            "- `score_1m_rows`: Loopline `score` reads 1,000,000 rows x 30 floats from Parquet in "
            "chunks, scores them with the registered model and writes Parquet (id, prediction, "
            "probability, model_version); the peer is one `predict_proba` call on the same rows "
            "already in memory as a float64 array (no file read or written): the floor.\n"
            "- Ratio < 1 is Loopline's overhead over that floor; peak memory is in the notes.",
        ),
        Benchmark(
            "serving",
            "Online serving: throughput and latency, one worker",
            MLFLOW,
            "- One scikit-learn `GradientBoostingClassifier` (breast-cancer data, 30 float "
            "columns) served by each tool with **one worker**: `loopline models serve`, "
            "`mlflow models serve`, `bentoml serve`, and a bare Starlette app calling "
            "`predict_proba` (the floor). Same single-row `POST /invocations` body (MLflow "
            "`dataframe_split`) to all, except BentoML with its adaptive batching "
            "(`batchable=True`), whose batchable API takes the same row as a 1 x 30 array; "
            "plain BentoML is reported too.\n"
            "- Load: `wrk`, 1 thread, keep-alive, 1, 16 and 64 connections (`c1`, `c16`, "
            "`c64`), 20 s each after a 2 s warm-up; server and load generator share the "
            "machine's cores.\n"
            "- `*_per_1000_requests`: seconds per 1,000 answered requests (1,000 / req/s), so "
            "its ratio is Loopline's throughput over the peer's; `*_p50_latency`, "
            "`*_p99_latency`: latency percentiles. Non-2xx answers and socket errors count as "
            "errors and never as throughput.\n"
            "- `capture off`: Loopline itself with `--no-capture`, so that row's throughput ratio "
            "is what prediction capture (on by default) costs.",
            (
                Variant("mlflow models serve", script="mlflow_side.py"),
                Variant("BentoML", peer=BENTOML, script="bentoml_side.py"),
                Variant("BentoML, adaptive batching", ("--batching",), BENTOML, "bentoml_side.py"),
                Variant("bare Starlette", peer=SERVING_BARE, script="bare_side.py"),
                Variant("capture off", ("--capture", "off"), LOOPLINE_ITSELF, "loopline_side.py"),
            ),
        ),
        Benchmark(
            "serving-batching",
            "Online serving with adaptive micro-batching, one worker",
            SERVING_BARE,
            "- The `serving` benchmark's model, body and load, with Loopline's adaptive "
            "micro-batching on (`--batch-max-size 64`, the queue bound at its 1,000 ms "
            "default): concurrent single-row requests scored in one `predict_proba` call. "
            "Compared with the bare Starlette floor (one call per request) and with "
            "BentoML's own adaptive batching (`batchable=True`, `max_batch_size=64`, its "
            "documented setting for this load).",
            (
                Variant("bare Starlette", script="bare_side.py"),
                Variant("BentoML, adaptive batching", ("--batching",), BENTOML, "bentoml_side.py"),
            ),
            folder="serving",
            args=("--batching",),
            ours="Loopline, micro-batching",
        ),
        Benchmark(
            "tracking-pg",
            "Tracking write throughput on PostgreSQL",
            MLFLOW,
            "- Loopline on PostgreSQL vs MLflow on PostgreSQL, and vs Loopline on SQLite (ratio "
            "< 1: SQLite is faster). A throwaway PostgreSQL server per side "
            "(`tests/_backends.py`, durable: fsync and synchronous_commit on) on this host; a "
            "fresh database (or SQLite file) per case, each case in fresh processes.\n"
            "- `single_call_loop`, `batch_10x1000`, `runs_200x10x10`: the `tracking` "
            "benchmark's cases.\n"
            "- `concurrent_4x50`: 4 processes at once, each 50 runs of 10 params + 10 metrics: "
            "wall time from the first start to the last end, interpreter start-up included.\n"
            "- Standalone, all three in one table: "
            "`.venv/bin/python benchmarks/scale/tracking_pg.py`.",
            (
                Variant("MLflow, PostgreSQL", ("--harness", "mlflow-pg"), script="tracking_pg.py"),
                Variant(
                    "Loopline, SQLite",
                    ("--harness", "loopline-sqlite"),
                    LOOPLINE_SQLITE,
                    "tracking_pg.py",
                ),
            ),
            folder="scale",
            script="tracking_pg.py",
            args=("--harness", "loopline-pg"),
            ours="Loopline, PostgreSQL",
        ),
        Benchmark(
            "scale-batch",
            "Batch scoring, 10,000,000 rows: Ray engine vs local engine, 2 cores",
            RAY_ENGINE,
            "- `score_10m_rows`: `loopline.batch.score` of 20 Parquet partitions (10,000,000 "
            "rows of id, 3 floats, a category) into a folder of partitions with a 100-tree "
            "gradient-boosted classifier, 250,000-row chunks; once on the local engine, once on "
            "a local Ray cluster with as many CPUs as the machine has. Data, model and warm-up "
            "untimed; each engine in its own process.\n"
            "- Ratio > 1: Ray is slower than the local engine. Ray's per-core efficiency (its "
            "rows/s per CPU over the local engine's rows/s) = 1 / (ratio x CPUs).\n"
            "- Standalone: `.venv/bin/python benchmarks/scale/batch_ray.py --rows 10000000`.",
            folder="scale",
            script="batch_ray.py",
            args=("--engine", "local"),
            variants=(Variant(args=("--engine", "ray"), script="batch_ray.py"),),
            ours="local engine",
        ),
        Benchmark(
            "scale-drift",
            "Drift over 10,000,000 rows: mergeable summaries vs whole frame, peak memory",
            RAY_ENGINE,
            "- `drift_10m_rows`: drift statistics of 10,000,000 current rows (two numeric "
            "columns, one categorical, 20 Parquet partitions) against a prepared 200,000-row "
            "reference. Reference side: `loopline.batch.drift_dataset` on the local engine "
            "(mergeable summaries, 500,000-row chunks, bounded memory); the same on the Ray "
            "engine; and the whole frame read into pandas then exact `drift_frame`.\n"
            "- Ratio < 1: the other side is faster. Each timing is a fresh process; peak RSS "
            "(VmHWM) of each is in the notes.\n"
            "- Standalone: "
            "`.venv/bin/python benchmarks/scale/drift_10m.py --rows 10000000 --in-memory --ray`.",
            folder="scale",
            script="drift_10m.py",
            args=("--harness", "sketch-local"),
            variants=(
                Variant("Ray engine", ("--harness", "sketch-ray"), script="drift_10m.py"),
                Variant("in memory", ("--harness", "in-memory"), IN_MEMORY, "drift_10m.py"),
            ),
            ours="local engine",
        ),
        Benchmark(
            "scale-store",
            "Store listings as history grows: runs, metric points, model versions",
            STORE_BUDGET,
            "- `list_newest_50_of_N_runs`: the newest 50 runs of an experiment of N runs x 40 "
            "metric points (`runs list`'s default); `sort_by_metric_N_runs`: the 50 best by "
            "their latest `auc` (`runs list --sort 'metric.auc desc'`); N = 1k, 10k, 100k.\n"
            "- `list_6_runs_of_1.2m_points`: the default listing of 6 runs holding 1,200,000 "
            "points, which must not read point histories.\n"
            "- `list_versions_N`: `models show`'s store call at 10, 100 and 1,000 versions.\n"
            "- Loopline alone on SQLite through the store API (no CLI start-up), stores filled "
            "in bulk and untimed; no peer: each case is held to 50 ms, issue 18's bound for the "
            "sort at 100k runs (its other bounds, and the growth from the smallest size, are in "
            "the notes). Takes minutes, mostly filling 4M metric rows.\n"
            "- Standalone, as growth tables: `.venv/bin/python benchmarks/scale/store_listing.py`.",
            folder="scale",
            script="store_listing.py",
            args=("--harness",),
        ),
        Benchmark(
            "scale-cli",
            "CLI command latency: a new `loopline` process, spawn to exit",
            CLI_BUDGET,
            "- Each command run as a user runs it: a new `python -m loopline ...` process, timed "
            "from spawn to exit (one warm-up, then the best of 10; medians and CPU time in the "
            "notes), over a store of 20 versions of one model. `models promote` moves a fresh "
            "alias with no policy: a store write without an evaluation.\n"
            "- Held to issue 18's 400 ms per command (`loopline --help`: 150 ms, in the notes); "
            "`python -c 0` is the interpreter's own start-up, for scale.\n"
            "- Standalone: `.venv/bin/python benchmarks/scale/cli_latency.py`.",
            folder="scale",
            script="cli_latency.py",
            args=("--harness",),
        ),
        Benchmark(
            "ui",
            "Web UI page latency, 10,000 runs and 100 model versions",
            UI_BUDGET,
            "- Every page requested through the team server's app in-process (auth middleware, "
            "cookie, governed store, template rendering: everything but the socket), signed in "
            "as a viewer, over a store of 10,000 runs and 100 versions (`tests/ui/_fill.py`). "
            "No peer: each page is held to the 500 ms budget.\n"
            "- Figure per page: its slowest request, the first (cold) one included.\n"
            "- Standalone, with first/median/slowest columns: "
            "`.venv/bin/python benchmarks/ui/pages.py`.",
            ours="Loopline",
        ),
    )
}


class SideError(RuntimeError):
    pass


@contextmanager
def step(text: str) -> Iterator[None]:
    """A spinner with elapsed time while a venv builds or a side runs."""
    spinner = SpinnerColumn(finished_text="")
    columns = (spinner, TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=CONSOLE) as progress:
        task = progress.add_task(text, total=None)
        try:
            yield
        except BaseException:
            progress.update(task, description=f"[red]failed[/] {text}", total=1, completed=1)
            raise
        progress.update(task, description=f"[green]done[/] {text}", total=1, completed=1)


def ensure_venv(peer: Peer) -> Path:
    """(Re)build the peer's venv when it is missing or its requirements file changed."""
    if peer.venv is None:
        return Path(sys.executable)
    venv, req = BENCH_DIR / peer.venv, BENCH_DIR / peer.requirements
    python, marker = venv / "bin" / "python", venv / MARKER
    digest = hashlib.sha256(req.read_bytes()).hexdigest()
    if python.exists() and marker.exists() and marker.read_text().strip() == digest:
        return python
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    with step(f"building {venv.relative_to(ROOT)} from {req.relative_to(ROOT)}"):
        # --clear: a changed pin must not leave stale packages behind.
        for cmd in ([sys.executable, "-m", "venv", "--clear", str(venv)], [*pip, "-r", str(req)]):
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                raise SideError(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    marker.write_text(digest + "\n")
    return python


def run_side(python: Path | str, script: Path, args: list[str], env: dict[str, str]) -> Any:
    """Run one side in a fresh temporary cwd; return the JSON object on its last stdout line."""
    cwd = tempfile.mkdtemp(prefix=f"loopline-bench-{script.parent.name}-")
    try:
        cmd = [str(python), str(script), *args]
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    finally:
        shutil.rmtree(cwd, ignore_errors=True)
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    where = script.relative_to(ROOT)
    if proc.returncode != 0 or not lines:
        raise SideError(f"{where} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    try:
        return json.loads(lines[-1])
    except ValueError as exc:
        raise SideError(f"{where}: last stdout line is not JSON: {lines[-1][:200]!r}") from exc


def peer_env(peer: Peer) -> dict[str, str]:
    drop = {*peer.unset_env, "PYTHONPATH"}  # nothing from the product tree leaks into the peer
    return {**{k: v for k, v in os.environ.items() if k not in drop}, **peer.env}


def seconds(x: float) -> str:
    return f"{x:.0f} s" if x >= 100 else f"{x:.3g} s"


def ratio(peer: float, ours: float) -> str:
    r = peer / ours if ours > 0 else float("inf")
    return f"{r:,.0f}{TIMES}" if r >= 10 else f"{r:.1f}{TIMES}" if r >= 1 else f"{r:.2f}{TIMES}"


def cell(side: dict[str, Any], case: str) -> str:
    note = side.get("case_notes", {}).get(case)
    value = seconds(side["results"][case])
    return f"≈{value} ({note})" if note else value


Sides = list[tuple[Variant, dict[str, Any]]]


def budget_side(peer: Peer, ours: dict[str, Any]) -> dict[str, Any]:
    """The "side" of a fixed reference: the budget for every case the Loopline side timed."""
    assert peer.budget is not None
    results = dict.fromkeys(ours["results"], peer.budget)
    return {"tool": peer.name, "version": "", "python": "", "results": results}


def describe(side: dict[str, Any]) -> str:
    if not side["version"]:  # a budget
        return str(side["tool"])
    return f"{side['tool']} {side['version']} (Python {side['python']})"


def section(bench: Benchmark, ours: dict[str, Any], peers: Sides, reps: int, load: str = "") -> str:
    """The markdown section of one benchmark, between markers so later runs can replace it."""
    tools = {describe(side): 0 for _, side in peers}
    names = {side["tool"] for _, side in peers}
    peer = bench.peer.name if len(names) == 1 else "peer"
    how = "one repetition (`--quick`)" if reps == 1 else f"best of {reps} repetitions"
    how = ours.get("how") or how  # a side that measures otherwise says how
    if all((v.peer or bench.peer).budget is not None for v in bench.variants):
        meaning = f"ratio = {peer} / {bench.ours} time (1{TIMES} or more: within the budget)"
    else:
        meaning = f"ratio = {peer} time / {bench.ours} time"
    command = f"python benchmarks/run.py --only {bench.name}" + (" --quick" if reps == 1 else "")
    lines = [
        f"<!-- bench:{bench.name}:start -->",
        f"## `{bench.name}`: {bench.title}",
        "",
        f"Loopline {ours['version']} (Python {ours['python']}) vs {', '.join(tools)}. "
        f"Seconds, {how}, lower is better; {meaning}. Reproduce: `{command}`.",
        "",
        bench.description,
        "",
        f"| case | {bench.ours} | {peer} | ratio |",
        "|---|---:|---:|---:|",
    ]
    for case, our_time in ours["results"].items():
        for variant, theirs in peers:
            if case in theirs["results"]:
                label = f"{case} · {variant.label}" if variant.label else case
                r = ratio(theirs["results"][case], our_time)
                lines.append(f"| `{label}` | {cell(ours, case)} | {cell(theirs, case)} | {r} |")
    notes = [*ours.get("notes", []), *(n for _, side in peers for n in side.get("notes", []))]
    notes = list(dict.fromkeys(notes))  # a note every side shares is shown once
    notes += [load] if load else []
    lines += ["", *(f"- {n}" for n in notes), f"<!-- bench:{bench.name}:end -->", ""]
    return "\n".join(lines)


def load_average() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def load_note(before: float, after: float, first: bool) -> str:
    """Whether other work shared the cores: the 1-minute load average around the benchmark."""
    cores = os.cpu_count() or 1
    if before <= 0.5 * cores:
        busy = "mostly idle"
    else:
        busy = "loaded by other work" if first else "busy (other work, or the benchmark before)"
    return (
        f"Load average (1 min) {before:.2f} before and {after:.2f} after this benchmark on "
        f"{cores} cores: the machine was {busy} when it started (the figure after counts the "
        "benchmark's own processes)."
    )


def machine() -> list[tuple[str, str]]:
    def proc_file(name: str) -> list[str]:
        path = Path("/proc") / name
        return path.read_text().splitlines() if path.exists() else []

    cpus = [
        ln.split(":", 1)[1].strip() for ln in proc_file("cpuinfo") if ln.startswith("model name")
    ]
    mem = [int(ln.split()[1]) for ln in proc_file("meminfo") if ln.startswith("MemTotal:")]
    try:
        distro = platform.freedesktop_os_release().get("PRETTY_NAME", platform.system())
    except OSError:
        distro = platform.system()
    return [
        ("CPU", cpus[0] if cpus else platform.processor() or "unknown"),
        ("cores", str(os.cpu_count())),
        ("RAM", f"{mem[0] / 1024**2:.1f} GiB" if mem else "unknown"),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("OS", f"{distro}, kernel {platform.release()}"),
    ]


def write_report(new_sections: dict[str, str], versions: dict[str, str]) -> None:
    """Rewrite BENCHMARKS.md, keeping the previous section of any benchmark not run this time."""
    previous = REPORT.read_text() if REPORT.exists() else ""
    old = {m["name"]: m[0] for m in SECTION_RE.finditer(previous)}
    sections = [new_sections.get(name) or old.get(name) or "" for name in BENCHMARKS]
    # Sections measured by a script of their own (benchmarks/scale/tracking_log_latency.py)
    # are kept as they were written.
    sections += [text for name, text in old.items() if name not in BENCHMARKS]
    head = [
        "# Benchmarks",
        "",
        "Loopline side by side with the tools it replaces, same workload, same machine. Each side",
        "runs as its own subprocess in a fresh temporary directory, one after the other; the peer",
        "runs from its own venv (`benchmarks/.venv*`, pinned in `benchmarks/requirements*.txt`).",
        "",
        "Reproduce with `make bench` (runs `python benchmarks/run.py`; `--only <name>` runs one",
        "benchmark, `--quick` a fast smoke pass). `benchmarks/README.md` explains how to add one.",
        "",
        f"Last run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in machine()),
        "",
        "| versions (last run) | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in versions.items()),
        "",
        "",
    ]
    REPORT.write_text("\n".join(head) + "\n".join(s for s in sections if s))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", action="append", choices=sorted(BENCHMARKS), help="repeatable")
    parser.add_argument(
        "--quick", action="store_true", help="one repetition, slow peer cases scaled"
    )
    parser.add_argument("--reps", type=int, help="best of N repetitions (default 3; 1 --quick)")
    args = parser.parse_args()
    reps = args.reps or (1 if args.quick else 3)
    side_args = ["--reps", str(reps), *(["--quick"] if args.quick else [])]
    new_sections: dict[str, str] = {}
    versions: dict[str, str] = {}
    failed = False
    for name in args.only or list(BENCHMARKS):
        bench = BENCHMARKS[name]
        folder = BENCH_DIR / (bench.folder or name)
        before = load_average()
        try:
            with step(f"{name}: Loopline"):
                script = folder / bench.script
                ours_args = [*bench.args, *side_args]
                ours = run_side(sys.executable, script, ours_args, {**os.environ})
            peers: Sides = []
            for variant in bench.variants:
                peer = variant.peer or bench.peer
                if peer.budget is not None:
                    peers.append((variant, budget_side(peer, ours)))
                    continue
                peer_python = ensure_venv(peer)
                peer_args = [*variant.args, *side_args]
                with step(f"{name}: {peer.name} {variant.label}".rstrip()):
                    env = peer_env(peer)
                    script = folder / (variant.script or peer.script)
                    theirs = run_side(peer_python, script, peer_args, env)
                peers.append((variant, theirs))
        except SideError as exc:
            failed = True
            CONSOLE.print(f"{name} failed, its BENCHMARKS.md section is kept.\n{exc}", markup=False)
            continue
        versions |= {"Loopline": ours["version"]}
        versions |= {s["tool"]: s["version"] for _, s in peers if s["version"]}
        load = load_note(before, load_average(), first=name == (args.only or list(BENCHMARKS))[0])
        new_sections[name] = section(bench, ours, peers, reps, load)
        CONSOLE.print(Markdown(new_sections[name]))
    if new_sections:
        write_report(new_sections, versions)
        CONSOLE.print(f"wrote {REPORT.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
