"""Per-call latency of `run.log_metric` (issue 18), Loopline alone: the slowest call matters.

    .venv/bin/python benchmarks/scale/tracking_log_latency.py [--points 1000000]

One run on local SQLite in a fresh LOOPLINE_HOME logs `--points` points of one key, timing
every call with `time.perf_counter_ns()`; then the run ends (the final write included in the
total). Prints median, p99, p99.9, p99.99 and max call latency, the total, and one JSON line.
The batches are written by the background writer thread while the loop runs, so the loop
shares this machine's cores (and the GIL) with it: the max is what a training loop sees.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time


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
        clock = time.perf_counter_ns
        t0 = time.perf_counter()
        run = ll.start_run(experiment="latency")
        log = run.log_metric
        work_ns = int(opts.work_us * 1000)
        sleep_s = opts.sleep_us / 1e6
        for i in range(n):
            start = clock()
            log("loss", 1.0 / (i + 1), step=i)
            end = clock()
            lat[i] = end - start
            while work_ns and clock() - end < work_ns:
                pass
            if sleep_s:
                time.sleep(sleep_s)
        logged = time.perf_counter()
        run.end()
        total = time.perf_counter() - t0
        stored = len(open_metadata_store().metric_history(run.id, "loss"))
    us = lat / 1000.0
    q = {p: float(np.percentile(us, p)) for p in (50, 99, 99.9, 99.99)}
    result = {
        "points": n,
        "work_us": opts.work_us,
        "sleep_us": opts.sleep_us,
        "stored": stored,
        "median_us": round(q[50], 2),
        "p99_us": round(q[99], 2),
        "p99.9_us": round(q[99.9], 2),
        "p99.99_us": round(q[99.99], 2),
        "max_us": round(float(us.max()), 1),
        "calls_over_1ms": int((us > 1000).sum()),
        "loop_s": round(logged - t0, 3),
        "total_s": round(total, 3),
        "python": sys.version.split()[0],
    }
    print(
        "| points | median µs | p99 µs | p99.9 µs | p99.99 µs | max µs | calls > 1 ms | total s |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {n:,} | {q[50]:.2f} | {q[99]:.2f} | {q[99.9]:.2f} | {q[99.99]:.1f} "
        f"| {us.max():.0f} | {result['calls_over_1ms']} | {total:.2f} |"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
