"""MLflow side of the tracking benchmark.

Run by ``benchmarks/run.py`` with ``benchmarks/.venv/bin/python`` in a fresh temporary
directory as cwd. Prints one JSON object on its last stdout line:
``{"tool", "version", "python", "results": {case: seconds}, "case_notes", "notes"}``.

The tracking URI is left alone: MLflow 3's default store, ``sqlite:///<cwd>/mlflow.db`` (its
old ``./mlruns`` file store is in maintenance mode and refuses to start unless opted in).
Logging is synchronous, MLflow's default; ``--async-logging`` turns on its documented
asynchronous logging (``mlflow.config.enable_async_logging``), the peer of Loopline's
buffered writes. The timed region still ends at run end, which waits for the queue to drain
(``set_terminated`` shuts the async queue down and joins its workers).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable

# Must be decided before mlflow is imported: synchronous logging, no telemetry, no git noise.
os.environ.pop("MLFLOW_ENABLE_ASYNC_LOGGING", None)
os.environ.pop("MLFLOW_TRACKING_URI", None)
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")

import mlflow
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

SINGLE_POINTS = 10_000
QUICK_SINGLE_POINTS = 1_000  # 10,000 calls take tens of seconds: --quick times 1,000, scales x10
BATCHES, BATCH_SIZE, BATCH_KEYS = 10, 1_000, 10
RUNS, PARAMS_PER_RUN, METRICS_PER_RUN = 200, 10, 10


def single_call_loop(points: int) -> float:
    """One run, ``points`` single ``mlflow.log_metric`` calls, start to end of run."""
    t0 = time.perf_counter()
    with mlflow.start_run():
        for i in range(points):
            mlflow.log_metric("loss", float(i), step=i)
    return time.perf_counter() - t0


def batch_10x1000() -> float:
    """One run, 10 ``log_batch`` calls of 1,000 points: the 1,000 steps x 10 keys of Loopline."""
    client = MlflowClient()
    steps_per_batch = BATCH_SIZE // BATCH_KEYS
    t0 = time.perf_counter()
    with mlflow.start_run() as run:
        for b in range(BATCHES):
            ts = int(time.time() * 1000)
            metrics = [
                Metric(key=f"m{k}", value=float(s * k), timestamp=ts, step=s)
                for s in range(b * steps_per_batch, (b + 1) * steps_per_batch)
                for k in range(BATCH_KEYS)
            ]
            client.log_batch(run.info.run_id, metrics=metrics)
    return time.perf_counter() - t0


def runs_200x10x10() -> float:
    """200 runs, each with 10 params and 10 metrics of one point each."""
    params = {f"p{k}": k for k in range(PARAMS_PER_RUN)}
    t0 = time.perf_counter()
    for r in range(RUNS):
        with mlflow.start_run():
            mlflow.log_params(params)
            mlflow.log_metrics({f"m{k}": float(r + k) for k in range(METRICS_PER_RUN)}, step=0)
    return time.perf_counter() - t0


def best_of(reps: int, case: Callable[[], float]) -> float:
    return min(case() for _ in range(reps))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--async-logging", action="store_true", help="MLflow's async logging")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()

    mlflow.config.enable_async_logging(args.async_logging)
    # Untimed warm-up: creates the database schema and the experiment, like Loopline's side.
    mlflow.set_experiment("bench")
    with mlflow.start_run():
        pass

    points = QUICK_SINGLE_POINTS if args.quick else SINGLE_POINTS
    scale = SINGLE_POINTS / points
    results = {
        "single_call_loop": best_of(args.reps, lambda: single_call_loop(points)) * scale,
        "batch_10x1000": best_of(args.reps, batch_10x1000),
        "runs_200x10x10": best_of(args.reps, runs_200x10x10),
    }
    case_notes = {}
    if scale != 1:
        case_notes["single_call_loop"] = (
            f"{points:,} points \N{MULTIPLICATION SIGN}{scale:g}, extrapolated"
        )
    uri = mlflow.get_tracking_uri().replace(os.getcwd(), "<tmp>")
    how = "asynchronous" if args.async_logging else "synchronous (its default)"
    print(
        json.dumps(
            {
                "tool": "MLflow",
                "version": mlflow.__version__,
                "python": platform.python_version(),
                "results": results,
                "case_notes": case_notes,
                "notes": [
                    f"MLflow, {how} logging: no tracking URI set, so MLflow 3's default store "
                    f"`{uri}`."
                ],
            }
        )
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
