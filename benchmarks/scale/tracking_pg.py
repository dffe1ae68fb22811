"""Tracking write throughput: Loopline on SQLite vs Loopline on PostgreSQL vs MLflow on PostgreSQL.

    .venv/bin/python benchmarks/scale/tracking_pg.py [--reps 3] [--pg-url URL] [--no-mlflow]

``benchmarks/run.py --only tracking-pg`` runs it once per side (``--harness loopline-pg``,
``mlflow-pg``, ``loopline-sqlite``), each with the side's own interpreter and its own
throwaway server, and prints the harness's JSON instead of the table.

Without --pg-url it starts a throwaway PostgreSQL server (the test suite's helper,
``tests/_backends.py``) with durable settings (fsync and synchronous_commit on, as a real
server runs), and stops it at the end. Each case runs in a fresh subprocess against a fresh
database (SQLite file in a new temp dir, or a new PostgreSQL database), one after the other,
never concurrently. MLflow runs with ``benchmarks/.venv/bin/python`` (MLflow 3.x) and needs
``psycopg[binary]`` in that venv; the side is skipped, and says so, when it is missing.

Cases (same workloads as ``benchmarks/tracking``):
- ``single_call_loop``: one run, 10,000 single ``log_metric`` calls, on every side (MLflow's
  synchronous calls take about 40 s on durable PostgreSQL: measured, not extrapolated).
- ``batch_10x1000``: one run, 10,000 points in batches (Loopline ``log_metrics`` per step,
  MLflow 10 ``log_batch`` calls of 1,000).
- ``runs_200x10x10``: 200 runs, each with 10 params and 10 metrics.
- ``concurrent_4x50``: 4 processes at once, each 50 runs of 10 params + 10 metrics: wall time
  from the first start to the last end (the store's write concurrency).

Prints a table and one JSON object on its last line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
MLFLOW_PY = ROOT / "benchmarks" / ".venv" / "bin" / "python"
CASES = ("single_call_loop", "batch_10x1000", "runs_200x10x10", "concurrent_4x50")
POINTS, STEPS, KEYS, RUNS, NPARAMS = 10_000, 1_000, 10, 200, 10
WORKERS, WORKER_RUNS = 4, 50


# --- the sides (run in their own process) ------------------------------------------------------


def loopline_side(db_url: str, case: str, reps: int, worker_runs: int) -> dict[str, float]:
    for var in ("LOOPLINE_URL", "LOOPLINE_ARTIFACTS_URI"):
        os.environ.pop(var, None)
    os.environ["LOOPLINE_HOME"] = os.path.join(os.getcwd(), ".loopline")
    os.environ["LOOPLINE_DB_URL"] = db_url
    import loopline as ll

    params: dict[str, str | int | float | bool] = {f"p{k}": k for k in range(NPARAMS)}

    def single() -> None:
        with ll.start_run(experiment="bench") as run:
            for i in range(POINTS):
                run.log_metric("loss", float(i), step=i)

    def batch() -> None:
        with ll.start_run(experiment="bench") as run:
            for s in range(STEPS):
                run.log_metrics({f"m{k}": float(s * k) for k in range(KEYS)}, step=s)

    def runs(n: int) -> None:
        for r in range(n):
            with ll.start_run(experiment="bench", params=params) as run:
                run.log_metrics({f"m{k}": float(r + k) for k in range(KEYS)}, step=0)

    with ll.start_run(experiment="bench"):  # untimed warm-up: schema, experiment
        pass
    work: dict[str, Callable[[], None]] = {
        "single_call_loop": single,
        "batch_10x1000": batch,
        "runs_200x10x10": lambda: runs(RUNS),
        "worker": lambda: runs(worker_runs),
    }
    return {case: _best(reps, work[case])}


def mlflow_side(db_url: str, case: str, reps: int, worker_runs: int) -> dict[str, float]:
    os.environ.pop("MLFLOW_ENABLE_ASYNC_LOGGING", None)
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "true")
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    import mlflow
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    mlflow.set_tracking_uri(db_url)
    mlflow.set_experiment("bench")
    with mlflow.start_run():  # untimed warm-up
        pass
    params = {f"p{k}": k for k in range(NPARAMS)}

    def single() -> None:
        with mlflow.start_run():
            for i in range(POINTS):
                mlflow.log_metric("loss", float(i), step=i)

    def batch() -> None:
        client = MlflowClient()
        with mlflow.start_run() as run:
            for b in range(10):
                ts = int(time.time() * 1000)
                metrics = [
                    Metric(key=f"m{k}", value=float(s * k), timestamp=ts, step=s)
                    for s in range(b * 100, (b + 1) * 100)
                    for k in range(KEYS)
                ]
                client.log_batch(run.info.run_id, metrics=metrics)

    def runs(n: int) -> None:
        for r in range(n):
            with mlflow.start_run():
                mlflow.log_params(params)
                mlflow.log_metrics({f"m{k}": float(r + k) for k in range(KEYS)}, step=0)

    work: dict[str, Callable[[], None]] = {
        "single_call_loop": single,
        "batch_10x1000": batch,
        "runs_200x10x10": lambda: runs(RUNS),
        "worker": lambda: runs(worker_runs),
    }
    return {case: _best(reps, work[case])}


def _best(reps: int, fn: Callable[[], None]) -> float:
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


# --- the driver ---------------------------------------------------------------------------------


class Postgres:
    """A fresh database per case on one server (ours, throwaway, durable; or the one given)."""

    def __init__(self, url: str | None) -> None:
        self.folder: Path | None = None
        if url is None:
            sys.path.insert(0, str(ROOT))
            from tests._backends import start_postgres  # standard library only

            self.folder = Path(tempfile.mkdtemp(prefix="ll-bench-pg-"))
            url = start_postgres(self.folder, durable=True)
        self.url = url
        self.n = 0

    def version(self) -> str:
        import psycopg
        import sqlalchemy as sa

        base = sa.make_url(self.url)
        with psycopg.connect(
            host=base.host, port=base.port, user=base.username, password=base.password,
            dbname=base.database or "postgres",
        ) as conn:  # fmt: skip
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]).split()[0] if row else "?"

    def fresh(self) -> str:
        import psycopg
        import sqlalchemy as sa

        base = sa.make_url(self.url)
        self.n += 1
        name = f"ll_bench_{os.getpid()}_{self.n}"
        with psycopg.connect(
            host=base.host, port=base.port, user=base.username, password=base.password,
            dbname=base.database or "postgres", autocommit=True,
        ) as admin:  # fmt: skip
            admin.execute(f'CREATE DATABASE "{name}"')
        return base.set(database=name).render_as_string(hide_password=False)

    def stop(self) -> None:
        if self.folder is not None:
            import shutil

            from tests._backends import stop_postgres

            stop_postgres(self.folder)
            shutil.rmtree(self.folder, ignore_errors=True)


def _side(python: str, side: str, db_url: str, case: str, reps: int, runs: int, cwd: str) -> Any:
    cmd = [python, str(Path(__file__).resolve()), "--side", side, "--db-url", db_url]
    cmd += ["--case", case, "--reps", str(reps), "--worker-runs", str(runs)]
    return subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, text=True)


def _result(proc: Any, case: str) -> float:
    out, _ = proc.communicate(timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f"side failed ({proc.returncode}) for {case}")
    return float(json.loads(out.strip().splitlines()[-1])[case])


def run_case(python: str, side: str, url_for: Callable[[str], str], case: str, reps: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        if case != "concurrent_4x50":
            return _result(_side(python, side, url_for(tmp), case, reps, 0, tmp), case)
        url = url_for(tmp)
        # schema and experiment first, so the workers measure writes, not migration
        _result(_side(python, side, url, "worker", 1, 1, tmp), "worker")
        best = float("inf")
        for _ in range(reps):
            t0 = time.perf_counter()
            procs = [
                _side(python, side, url, "worker", 1, WORKER_RUNS, tmp) for _ in range(WORKERS)
            ]
            for p in procs:
                _result(p, "worker")
            best = min(best, time.perf_counter() - t0)  # includes each worker's start-up
        return best


HARNESS_SIDES = {  # --harness SIDE: (tool, side function, database)
    "loopline-pg": ("Loopline", "loopline", "PostgreSQL"),
    "loopline-sqlite": ("Loopline", "loopline", "SQLite"),
    "mlflow-pg": ("MLflow", "mlflow", "PostgreSQL"),
}


def harness(which: str, reps: int, pg_url: str | None) -> None:
    """One side for ``benchmarks/run.py``: every case, then the harness's JSON line."""
    from importlib.metadata import version

    tool, side, database = HARNESS_SIDES[which]
    pg = Postgres(pg_url) if database == "PostgreSQL" else None
    try:
        url_for: Callable[[str], str] = (
            (lambda _tmp: pg.fresh()) if pg else (lambda tmp: f"sqlite:///{tmp}/loopline.db")
        )
        results: dict[str, float] = {}
        for case in CASES:
            single = side == "mlflow" and case == "single_call_loop"
            results[case] = run_case(sys.executable, side, url_for, case, 1 if single else reps)
            print(f"{tool} on {database}: {case} {results[case]:.3f} s", file=sys.stderr)
        server = f"PostgreSQL {pg.version()}" if pg else "SQLite"
    finally:
        if pg:
            pg.stop()
    if database == "PostgreSQL":
        where = (
            f"{server} on this host, durable settings (fsync and synchronous_commit on), a fresh "
            "database per case"
        )
    else:
        where = "SQLite file in a fresh temporary folder per case (WAL, synchronous=NORMAL)"
    scheme = "postgresql+psycopg" if pg else "sqlite"
    notes = [f"{tool} on {database}: {where}; `{scheme}://…` as the store / tracking URI."]
    case_notes: dict[str, str] = {}
    print(
        json.dumps(
            {
                "tool": tool,
                "version": version("loopline" if side == "loopline" else "mlflow"),
                "python": platform.python_version(),
                "results": results,
                "case_notes": case_notes,
                "notes": notes,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--side", choices=["loopline", "mlflow"])
    parser.add_argument("--db-url")
    parser.add_argument("--case")
    parser.add_argument("--worker-runs", type=int, default=WORKER_RUNS)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--pg-url", help="an existing server (a database per case is created)")
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument("--harness", choices=sorted(HARNESS_SIDES), help="one side, run.py JSON")
    parser.add_argument("--quick", action="store_true", help="accepted; runs full size")
    args = parser.parse_args()

    if args.harness:
        harness(args.harness, args.reps, args.pg_url)
        return

    if args.side:
        side = loopline_side if args.side == "loopline" else mlflow_side
        print(json.dumps(side(args.db_url, args.case, args.reps, args.worker_runs)))
        return

    pg = Postgres(args.pg_url)
    try:
        rows: dict[str, dict[str, float]] = {}
        sqlite = lambda tmp: f"sqlite:///{tmp}/loopline.db"  # noqa: E731
        me = sys.executable
        sides: list[tuple[str, str, str, Callable[[str], str]]] = [
            ("Loopline, SQLite", me, "loopline", sqlite),
            ("Loopline, PostgreSQL", me, "loopline", lambda _tmp: pg.fresh()),
        ]
        mlflow_ok = MLFLOW_PY.exists() and not args.no_mlflow
        if mlflow_ok:
            probe = subprocess.run(
                [str(MLFLOW_PY), "-c", "import mlflow, psycopg"], capture_output=True, check=False
            )
            mlflow_ok = probe.returncode == 0
        if mlflow_ok:
            sides.append(("MLflow, PostgreSQL", str(MLFLOW_PY), "mlflow", lambda _t: pg.fresh()))
        else:
            print("MLflow side skipped: benchmarks/.venv with mlflow and psycopg not found")
        for label, python, side, url_for in sides:
            rows[label] = {}
            for case in CASES:
                reps = 1 if side == "mlflow" and case == "single_call_loop" else args.reps
                rows[label][case] = run_case(python, side, url_for, case, reps)
                print(f"{label:24} {case:18} {rows[label][case]:8.3f} s", flush=True)
    finally:
        pg.stop()
    print()
    print("| case | " + " | ".join(rows) + " |")
    print("|---" * (len(rows) + 1) + "|")
    for case in CASES:
        print(f"| {case} | " + " | ".join(f"{rows[s][case]:.3f} s" for s in rows) + " |")
    print(json.dumps({"python": platform.python_version(), "results": rows}))


if __name__ == "__main__":
    main()
