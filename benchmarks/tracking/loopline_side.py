"""Loopline side of the tracking benchmark.

Run by ``benchmarks/run.py`` with the product interpreter in a fresh temporary directory
as cwd. Prints one JSON object on its last stdout line:
``{"tool", "version", "python", "results": {case: seconds}, "case_notes", "notes"}``.
The cases mirror ``peer_side.py`` point for point.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable

# The store location is read at import time: point it into the (temporary) cwd first, and drop
# anything that would send the benchmark to a server or another database.
for _var in ("LOOPLINE_URL", "LOOPLINE_DB_URL", "LOOPLINE_ARTIFACTS_URI"):
    os.environ.pop(_var, None)
os.environ["LOOPLINE_HOME"] = os.path.join(os.getcwd(), ".loopline")

import loopline as ll  # noqa: E402

EXPERIMENT = "bench"
SINGLE_POINTS = 10_000
BATCH_STEPS, BATCH_KEYS = 1_000, 10  # 10,000 points, as MLflow's 10 log_batch calls of 1,000
RUNS, PARAMS_PER_RUN, METRICS_PER_RUN = 200, 10, 10


def single_call_loop() -> float:
    """One run, 10,000 single ``run.log_metric`` calls, run start to end (final flush included)."""
    t0 = time.perf_counter()
    with ll.start_run(experiment=EXPERIMENT) as run:
        for i in range(SINGLE_POINTS):
            run.log_metric("loss", float(i), step=i)
    return time.perf_counter() - t0


def batch_10x1000() -> float:
    """One run, 1,000 steps x 10 keys via ``run.log_metrics``: the points of the MLflow batches."""
    t0 = time.perf_counter()
    with ll.start_run(experiment=EXPERIMENT) as run:
        for s in range(BATCH_STEPS):
            run.log_metrics({f"m{k}": float(s * k) for k in range(BATCH_KEYS)}, step=s)
    return time.perf_counter() - t0


def runs_200x10x10() -> float:
    """200 runs, each with 10 params and 10 metrics of one point each."""
    params: dict[str, str | int | float | bool] = {f"p{k}": k for k in range(PARAMS_PER_RUN)}
    t0 = time.perf_counter()
    for r in range(RUNS):
        with ll.start_run(experiment=EXPERIMENT, params=params) as run:
            run.log_metrics({f"m{k}": float(r + k) for k in range(METRICS_PER_RUN)}, step=0)
    return time.perf_counter() - t0


def best_of(reps: int, case: Callable[[], float]) -> float:
    return min(case() for _ in range(reps))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument(
        "--quick", action="store_true", help="accepted for symmetry; Loopline runs full size"
    )
    args = parser.parse_args()

    # Untimed warm-up: creates the store schema and the experiment, like the peer side's warm-up.
    with ll.start_run(experiment=EXPERIMENT):
        pass

    results = {
        "single_call_loop": best_of(args.reps, single_call_loop),
        "batch_10x1000": best_of(args.reps, batch_10x1000),
        "runs_200x10x10": best_of(args.reps, runs_200x10x10),
    }
    print(
        json.dumps(
            {
                "tool": "Loopline",
                "version": ll.__version__,
                "python": platform.python_version(),
                "results": results,
                "case_notes": {},
                "notes": [
                    "Loopline: embedded store, SQLite under `<tmp>/.loopline`; metric points are "
                    "buffered and written in batches, and the timed region ends after the final "
                    "write at run end.",
                ],
            }
        )
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
