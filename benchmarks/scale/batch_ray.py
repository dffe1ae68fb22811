"""Batch scoring, local engine vs Ray engine, on this machine (standalone).

    python benchmarks/scale/batch_ray.py --rows 10000000 [--cpus 2] [--partitions 20]

Setup (untimed): `--rows` rows of (customer_id, a, b, c, segment) written as `--partitions`
Parquet files, a 100-tree gradient-boosted classifier registered in a temporary Loopline home.
Timed: `loopline.batch.score` of the folder into a folder of partitions, once on the local
engine (scoring in one process: one core scores while threads read and write) and once on
a local Ray cluster of `--cpus` CPUs (Ray Data reads, an actor per CPU scores, Ray Data
writes). Both outputs are checked equal. Prints one JSON line: seconds, rows/s, CPU seconds,
and per-core efficiency = (Ray rows/s per CPU) / (local rows/s per core used).

``benchmarks/run.py --only scale-batch`` runs it once per engine (``--engine local``, then
``--engine ray``, each a fresh process with its own data and model, best of ``--reps``) and
prints the harness's JSON instead; each side reports a digest of its output so the two can
be compared.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def make_data(folder: Path, rows: int, partitions: int) -> None:
    import numpy as np
    import pandas as pd

    folder.mkdir()
    per = -(-rows // partitions)
    rng = np.random.default_rng(0)
    for i, start in enumerate(range(0, rows, per)):
        n = min(per, rows - start)
        pd.DataFrame(
            {
                "customer_id": np.arange(start, start + n, dtype=np.int64),
                "a": rng.normal(size=n),
                "b": rng.normal(size=n),
                "c": rng.normal(size=n),
                "segment": rng.choice(["north", "south", "east"], n),
            }
        ).to_parquet(folder / f"part-{i:04d}.parquet", index=False)


def train() -> str:
    import numpy as np
    import pandas as pd
    from sklearn.ensemble import GradientBoostingClassifier

    import loopline as ll

    rng = np.random.default_rng(1)
    X = pd.DataFrame({k: rng.normal(size=20_000) for k in "abc"})
    y = X["a"] + 0.5 * X["b"] - 0.3 * X["c"] + rng.normal(scale=0.7, size=len(X)) > 0
    model = GradientBoostingClassifier(n_estimators=100, max_depth=3, random_state=0)
    with ll.start_run(experiment="bench") as run:
        info = run.log_model(model.fit(X, y.astype("int64")), signature=ll.infer_signature(X, y))
    return ll.register_model(info, "bench").uri


def digest(folder: Path) -> str:
    """sha256 of the probabilities in id order: equal digests, equal outputs."""
    import pyarrow.dataset as ds

    table = ds.dataset(folder).to_table(columns=["customer_id", "probability"])
    table = table.sort_by("customer_id")
    return hashlib.sha256(table.column("probability").to_numpy().tobytes()).hexdigest()[:16]


def side(engine: str, args: argparse.Namespace) -> None:
    """One engine for ``benchmarks/run.py``: best of ``--reps`` timed scores, the JSON line."""
    import loopline as ll
    from loopline.batch import score

    work = Path(tempfile.mkdtemp(prefix="loopline-bench-scale-"))
    os.chdir(work)
    os.environ["LOOPLINE_HOME"] = str(work / ".loopline")
    make_data(work / "in", args.rows, args.partitions)
    uri = train()
    tool, version = "Loopline", ll.__version__
    if engine == "ray":
        import ray
        from ray.data import DataContext

        ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
        DataContext.get_current().enable_progress_bars = False
        tool, version = "Ray", ray.__version__
    # Warm-up (untimed): model load, and for Ray the actors' start-up.
    first = work / "in" / "part-0000.parquet"
    score(uri, first, work / "warm", engine=engine, chunk_size=args.chunk_size)
    best, best_cpu = float("inf"), 0.0
    for rep in range(args.reps):
        out = work / f"out-{rep}"
        c0, t0 = cpu_seconds(), time.perf_counter()
        done = score(uri, work / "in", out, chunk_size=args.chunk_size, engine=engine)
        elapsed, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        assert done.rows == args.rows, f"scored {done.rows:,} of {args.rows:,} rows"
        if elapsed < best:
            best, best_cpu = elapsed, cpu
    output = digest(out)
    if engine == "ray":
        ray.shutdown()
    os.chdir(Path.home())
    shutil.rmtree(work, ignore_errors=True)
    if engine == "local":
        how = (
            f"Local engine: {args.rows / best:,.0f} rows/s; one process scores while threads "
            f"read and write: {best_cpu / best:.2f} cores busy on average "
            f"({best_cpu:.1f} CPU s)."
        )
    else:
        how = (
            f"Ray engine: {args.rows / best:,.0f} rows/s on a local Ray cluster of {args.cpus} "
            f"CPUs = {args.rows / best / args.cpus:,.0f} rows/s per CPU (Ray Data reads, an "
            "actor per CPU scores, Ray Data writes; cluster start-up and actor warm-up untimed; "
            "CPU time of Ray's workers not counted)."
        )
    print(
        json.dumps(
            {
                "tool": tool,
                "version": version,
                "python": platform.python_version(),
                "results": {f"score_{args.rows // 1_000_000}m_rows": best},
                "case_notes": {},
                "notes": [how, f"{tool}: output digest (probabilities in id order) {output}."],
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--partitions", type=int, default=20)
    ap.add_argument("--cpus", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--chunk-size", type=int, default=250_000)
    ap.add_argument("--engine", choices=["local", "ray"], help="one side, run.py JSON")
    ap.add_argument("--reps", type=int, default=1, help="with --engine: best of N")
    ap.add_argument("--quick", action="store_true", help="with --engine: 1,000,000 rows")
    args = ap.parse_args()
    if args.engine:
        args.rows = 1_000_000 if args.quick else args.rows
        side(args.engine, args)
        return

    work = Path(tempfile.mkdtemp(prefix="loopline-bench-scale-"))
    os.chdir(work)
    os.environ["LOOPLINE_HOME"] = str(work / ".loopline")
    import pyarrow.dataset as ds

    from loopline.batch import score

    make_data(work / "in", args.rows, args.partitions)
    uri = train()
    out: dict[str, object] = {"rows": args.rows, "cpus": args.cpus, "python": sys.version[:6]}

    c0, t0 = cpu_seconds(), time.perf_counter()
    local = score(uri, work / "in", work / "out-local", chunk_size=args.chunk_size, engine="local")
    t_local, c_local = time.perf_counter() - t0, cpu_seconds() - c0
    assert local.rows == args.rows

    import ray

    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
    from ray.data import DataContext

    DataContext.get_current().enable_progress_bars = False
    # Warm-up (untimed): actor start-up and the first model load, on a small slice.
    score(
        uri,
        work / "in" / "part-0000.parquet",
        work / "warm",
        engine="ray",
        chunk_size=args.chunk_size,
    )
    t0 = time.perf_counter()
    remote = score(uri, work / "in", work / "out-ray", chunk_size=args.chunk_size, engine="ray")
    t_ray = time.perf_counter() - t0
    ray_cpu = None
    ray.shutdown()
    assert remote.rows == args.rows

    a = ds.dataset(work / "out-local").to_table(columns=["customer_id", "probability"])
    b = ds.dataset(work / "out-ray").to_table(columns=["customer_id", "probability"])
    equal = a.equals(b)
    os.chdir(Path.home())
    shutil.rmtree(work, ignore_errors=True)

    local_cores = c_local / t_local  # cores the local engine kept busy on average
    out.update(
        local_seconds=round(t_local, 2),
        local_rows_per_s=round(args.rows / t_local),
        local_cpu_seconds=round(c_local, 1),
        local_cores_busy=round(local_cores, 2),
        ray_seconds=round(t_ray, 2),
        ray_rows_per_s=round(args.rows / t_ray),
        ray_cpu_seconds=ray_cpu,
        speedup=round(t_local / t_ray, 2),
        per_core_efficiency=round((args.rows / t_ray / args.cpus) / (args.rows / t_local), 2),
        outputs_equal=equal,
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
