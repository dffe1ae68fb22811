"""Per-call latency of `run.log_metric` (issue 18), Loopline alone: the slowest call matters.

    .venv/bin/python benchmarks/scale/tracking_log_latency.py [--points 1000000] [--explain]

One run on local SQLite in a fresh LOOPLINE_HOME logs `--points` points of one key, timing
every call with `time.perf_counter_ns()`; then the run ends (the final write included in the
total). Prints median, p99, p99.9, p99.99 and max call latency, the total, and one JSON line.
The batches are written by the background writer thread while the loop runs, so the loop
shares this machine's cores (and the GIL) with it: the max is what a training loop sees.

Garbage collections during the loop are counted per generation (with the longest), since
one can hold the GIL for over a millisecond. `--explain` (Linux) also sorts the calls over
1 ms by what the loop's thread did meanwhile, from its /proc schedstat sampled every 256
calls: mostly waiting for a CPU (another process, or the writer on the same core, had it),
mostly running (its own work: a collection, page faults), or neither: blocked, on the GIL
or the buffer's lock, which is the stall the writer thread must keep short.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import threading
import time
from typing import Any

_EVERY = 256  # calls between two run-queue samples (--explain)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument(
        "--work-us",
        type=float,
        default=0.0,
        help="busy-wait this long between calls (a step holding the GIL); 0: a tight loop",
    )
    parser.add_argument(
        "--sleep-us",
        type=float,
        default=0.0,
        help="sleep this long between calls (a step releasing the GIL, as NumPy/torch do)",
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="tell calls over 1 ms that waited for a CPU (another process) from the rest",
    )
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        for var in ("LOOPLINE_URL", "LOOPLINE_DB_URL", "LOOPLINE_ARTIFACTS_URI"):
            os.environ.pop(var, None)
        os.environ["LOOPLINE_HOME"] = home
        import numpy as np

        import loopline as ll
        from loopline.store import open_metadata_store

        n = opts.points
        lat = np.empty(n, dtype=np.int64)
        sched = np.zeros((n // _EVERY + 2, 2), dtype=np.int64)  # ns on CPU, queued (--explain)
        read_sched = _schedstat() if opts.explain else None
        collections: list[tuple[int, str, int]] = []  # (ns, start/stop, generation)
        clock = time.perf_counter_ns
        t0 = time.perf_counter()
        run = ll.start_run(experiment="latency")
        log = run.log_metric
        work_ns = int(opts.work_us * 1000)
        sleep_s = opts.sleep_us / 1e6

        def on_gc(phase: str, info: dict[str, Any]) -> None:
            collections.append((clock(), phase, info["generation"]))

        gc.callbacks.append(on_gc)
        for i in range(n):
            if read_sched is not None and not i % _EVERY:
                sched[i // _EVERY] = read_sched()
            start = clock()
            log("loss", 1.0 / (i + 1), step=i)
            end = clock()
            lat[i] = end - start
            while work_ns and clock() - end < work_ns:
                pass
            if sleep_s:
                time.sleep(sleep_s)
        if read_sched is not None:
            sched[n // _EVERY + (1 if n % _EVERY else 0) :] = read_sched()
        gc.callbacks.remove(on_gc)
        logged = time.perf_counter()
        run.end()
        total = time.perf_counter() - t0
        stored = len(open_metadata_store().metric_history(run.id, "loss"))
    us = lat / 1000.0
    q = {p: float(np.percentile(us, p)) for p in (50, 99, 99.9, 99.99)}
    slow = np.flatnonzero(us > 1000)
    result: dict[str, Any] = {
        "points": n,
        "work_us": opts.work_us,
        "sleep_us": opts.sleep_us,
        "stored": stored,
        "median_us": round(q[50], 2),
        "p99_us": round(q[99], 2),
        "p99.9_us": round(q[99.9], 2),
        "p99.99_us": round(q[99.99], 2),
        "max_us": round(float(us.max()), 1),
        "calls_over_1ms": len(slow),
        "loop_s": round(logged - t0, 3),
        "total_s": round(total, 3),
        "gc_in_loop": _collections(collections),
        "python": sys.version.split()[0],
    }
    if read_sched is not None:
        # what the thread did over a slow call's window (its 256 calls), against the call
        did = (sched[slow // _EVERY + 1] - sched[slow // _EVERY]) / 1000.0
        queued = did[:, 1] >= 0.5 * us[slow]
        running = ~queued & (did[:, 0] >= 0.5 * us[slow])
        blocked = us[slow][~queued & ~running]
        result["over_1ms_queued_for_cpu"] = int(queued.sum())
        result["over_1ms_running"] = int(running.sum())
        result["over_1ms_blocked"] = len(blocked)
        result["max_blocked_us"] = round(float(blocked.max()), 1) if len(blocked) else 0.0
    print(
        "| points | median µs | p99 µs | p99.9 µs | p99.99 µs | max µs | calls > 1 ms | total s |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {n:,} | {q[50]:.2f} | {q[99]:.2f} | {q[99.9]:.2f} | {q[99.99]:.1f} "
        f"| {us.max():.0f} | {result['calls_over_1ms']} | {total:.2f} |"
    )
    print(json.dumps(result))


def _collections(events: list[tuple[int, str, int]]) -> dict[str, list[float]]:
    """Per generation: [collections, longest µs] from gc.callbacks' start/stop pairs."""
    out: dict[str, list[float]] = {}
    started: dict[int, int] = {}  # per thread id would be exact; collections never nest
    for ns, phase, gen in events:
        if phase == "start":
            started[gen] = ns
        elif gen in started:
            entry = out.setdefault(f"gen{gen}", [0, 0.0])
            entry[0] += 1
            entry[1] = max(entry[1], round((ns - started.pop(gen)) / 1000.0, 1))
    return out


def _schedstat() -> Any:
    """A reader of this thread's (ns on a CPU, ns waiting for one) so far (Linux)."""
    path = f"/proc/self/task/{threading.get_native_id()}/schedstat"
    if not os.path.exists(path):
        raise SystemExit(f"--explain needs {path} (Linux with schedstats)")
    handle = open(path, "rb", buffering=0)  # noqa: SIM115 - read for the whole loop

    def read() -> tuple[int, int]:
        handle.seek(0)
        on_cpu, queued, _ = handle.read().split()
        return int(on_cpu), int(queued)

    return read


if __name__ == "__main__":
    main()
