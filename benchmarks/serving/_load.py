"""The serving benchmark's load and report, shared by every side; with ``_proc`` for servers.

    args = parse_args(__doc__)
    port = free_port()
    with serve([...server command..., "--port", str(port)], port=port, ready_path="/ping") as url:
        measured = measure(f"{url}/invocations", prepared.mlflow_body, args)
    emit("MLflow", mlflow.__version__, measured, notes=["how the server was run"])

Load: ``wrk`` (Debian's package, installed here when missing) with ``post.lua``, closed loop,
keep-alive connections, to 127.0.0.1 only, a fixed duration per concurrency.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from _proc import HOST, cpu_seconds, free_port, log, serve

__all__ = ["HERE", "emit", "free_port", "measure", "parse_args", "serve"]

HERE = Path(__file__).resolve().parent
LUA = HERE / "post.lua"
CONCURRENCIES = (1, 16, 64)
SECONDS, QUICK_SECONDS, WARMUP_SECONDS = 20, 5, 2
WRK_THREADS = 1  # one wrk thread drives far more than any server here; a second steals its CPU
# Other processes (other sessions, CI) using more than BUSY_CORES during a run: that run is
# repeated up to BUSY_RETRIES times, and a reported run still disturbed gets a note.
BUSY_CORES, BUSY_RETRIES = 0.2, 1
WRK_TIMEOUT = "10s"  # wrk's default 2 s would turn slow-but-answered requests into errors


@dataclass(frozen=True)
class LoadResult:
    """One wrk run at one concurrency."""

    concurrency: int
    seconds: float
    requests: int  # answered, whatever the status
    errors: int  # non-2xx answers + socket errors (connect, read, write, timeout)
    req_per_s: float  # 2xx answers per second
    p50_ms: float
    p99_ms: float
    max_ms: float
    other_cores: float  # CPU taken by processes outside this benchmark during the run, in cores


@dataclass(frozen=True)
class Measurement:
    results: dict[int, LoadResult]  # concurrency -> best run
    seconds: int  # per run
    reps: int


def parse_args(doc: str | None) -> argparse.Namespace:
    """The harness's side arguments: ``--reps N`` (best of N) and ``--quick``."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--reps", type=int, default=3, help="report the best of N runs")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SECONDS} s runs")
    return parser.parse_args()


def ensure_wrk() -> str:
    """Path of ``wrk``; installs Debian's package when missing and we are root with apt-get."""
    found = shutil.which("wrk")
    apt = shutil.which("apt-get")
    if found is None and apt is not None and os.geteuid() == 0:
        log("wrk not found: installing Debian's package (apt-get install wrk)")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for cmd in ([apt, "update", "-qq"], [apt, "install", "-y", "-qq", "wrk"]):
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if proc.returncode != 0:
                raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
        found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk (HTTP load generator) not found: `apt-get install wrk`, then rerun")
    return found


def check(url: str, body: Path) -> str:
    """One request before the load: the server must answer 2xx (a fast 500 is no throughput)."""
    request = urllib.request.Request(
        url, data=body.read_bytes(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            answer = str(resp.read().decode())
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"POST {url} answered {exc.code}: {exc.read()[:2000]!r}") from exc
    log(f"POST {url} -> {answer[:200]}")
    return answer


def run_wrk(url: str, body: Path, concurrency: int, seconds: int) -> LoadResult:
    """``seconds`` of closed-loop load: ``concurrency`` keep-alive connections POSTing ``body``."""
    if urllib.parse.urlsplit(url).hostname != HOST:
        raise ValueError(f"load goes to {HOST} only, not {url}")
    cmd = [ensure_wrk(), f"-t{WRK_THREADS}", f"-c{concurrency}", f"-d{seconds}s"]
    cmd += ["--timeout", WRK_TIMEOUT, "-s", str(LUA), url, "--", str(body)]
    busy0, ours0, t0 = *cpu_seconds(), time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    busy1, ours1, wall = *cpu_seconds(), time.monotonic() - t0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("WRK_RESULT ")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"wrk exited {proc.returncode}:\n{proc.stderr[-2000:]}{proc.stdout}")
    raw = json.loads(lines[-1].removeprefix("WRK_RESULT "))
    sockets = sum(raw[k] for k in ("connect", "read", "write", "timeout"))
    ok = raw["requests"] - raw["non2xx"]
    if ok <= 0:
        raise SystemExit(f"no 2xx answer in {seconds} s at c={concurrency}: {raw}")
    return LoadResult(
        concurrency=concurrency,
        seconds=raw["duration_us"] / 1e6,
        requests=int(raw["requests"]),
        errors=int(raw["non2xx"] + sockets),
        req_per_s=ok / (raw["duration_us"] / 1e6),
        p50_ms=raw["p50_us"] / 1e3,
        p99_ms=raw["p99_us"] / 1e3,
        max_ms=raw["max_us"] / 1e3,
        other_cores=max(0.0, (busy1 - busy0) - (ours1 - ours0)) / wall,
    )


def measure(url: str, body: Path, args: argparse.Namespace) -> Measurement:
    """Check, warm up (untimed), then ``args.reps`` runs per concurrency; best by throughput.

    The best run's latencies are reported with it, so the three figures come from one run. A run
    that other processes disturbed is repeated (BUSY_RETRIES), and the best of all is kept.
    """
    seconds = QUICK_SECONDS if args.quick else SECONDS
    check(url, body)
    run_wrk(url, body, CONCURRENCIES[0], WARMUP_SECONDS)
    best: dict[int, LoadResult] = {}
    for rep in range(args.reps):
        for c in CONCURRENCIES:
            for attempt in range(1 + BUSY_RETRIES):
                r = run_wrk(url, body, c, seconds)
                log(
                    f"run {rep + 1}/{args.reps}{'+' * attempt} c={c}: {r.req_per_s:,.1f} req/s, "
                    f"p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms, {r.errors} errors, "
                    f"{r.requests:,} answers; other processes took {r.other_cores:.2f} cores"
                )
                if c not in best or r.req_per_s > best[c].req_per_s:
                    best[c] = r
                if r.other_cores < BUSY_CORES:
                    break  # undisturbed: no need to run it again
    return Measurement(best, seconds, args.reps)


def _busy_note(tool: str, measured: Measurement) -> list[str]:
    """A warning when other work shared the machine during the reported runs."""
    other = max(r.other_cores for r in measured.results.values())
    if other < BUSY_CORES:
        return []
    return [
        f"{tool}: other processes on the machine used up to {other:.1f} of its "
        f"{os.cpu_count()} cores during these runs; a quiet machine gives better figures."
    ]


def emit(tool: str, version: str, measured: Measurement, notes: Sequence[str] = ()) -> None:
    """Print the harness's JSON line. ``results`` are seconds, lower is better, as the harness
    expects: time per 1,000 requests (1000 / req/s) and p50/p99; ``metrics`` has the raw figures.
    """
    results: dict[str, float] = {}
    case_notes: dict[str, str] = {}
    for c, r in measured.results.items():
        results[f"c{c}_per_1000_requests"] = 1000 / r.req_per_s
        results[f"c{c}_p50_latency"] = r.p50_ms / 1000
        results[f"c{c}_p99_latency"] = r.p99_ms / 1000
        if r.errors:
            case_notes[f"c{c}_per_1000_requests"] = f"{r.errors:,} errors"
    summary = "; ".join(
        f"c={c}: {r.req_per_s:,.0f} req/s, p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms, "
        f"{r.errors} errors"
        for c, r in measured.results.items()
    )
    how = "one run" if measured.reps == 1 else f"best of {measured.reps} runs by throughput"
    load = (
        f"Load: wrk ({WRK_THREADS} thread, keep-alive, single-row POST in MLflow's "
        f"`dataframe_split` form), {measured.seconds} s per concurrency, {how}, after a "
        f"{WARMUP_SECONDS} s warm-up. Every server runs one worker; server and load generator "
        f"share the machine's {os.cpu_count()} cores."
    )
    doc = {
        "tool": tool,
        "version": version,
        "python": platform.python_version(),
        "results": results,
        "case_notes": case_notes,
        "notes": [f"{tool}: {summary}.", *notes, load, *_busy_note(tool, measured)],
        "metrics": {f"c{c}": asdict(r) for c, r in measured.results.items()},
    }
    print(json.dumps(doc), flush=True)
