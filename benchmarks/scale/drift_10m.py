"""Drift statistics over data larger than you want in memory, in bounded memory (standalone).

    python benchmarks/scale/drift_10m.py --rows 10000000 [--in-memory] [--ray]

Setup (untimed): a 200,000-row reference and `--rows` current rows (two numeric columns, one
categorical), written as 20 Parquet partitions without ever holding them whole. Timed, each in
a fresh subprocess so its peak RSS is its own:
- `sketch-local`: `loopline.batch.drift_dataset` on the local engine, 500,000-row chunks;
- `sketch-ray` (--ray): the same on a local Ray cluster (Ray Data reads and summarizes);
- `in-memory` (--in-memory): the whole current frame read into pandas and `drift_frame`
  (exact statistics), for comparison.
Prints one JSON line: seconds, peak RSS (MiB) of each, and the largest difference between the
sketch and the exact statistics when both ran. Peak RSS is the child's VmHWM (ru_maxrss would
carry over the parent's peak, which generated the data, across fork and exec).

``benchmarks/run.py --only scale-drift`` runs it once per method (``--harness sketch-local``,
``sketch-ray``, ``in-memory``: each generates its data, then times best of ``--reps`` fresh
children) and prints the harness's JSON instead; the in-memory side also runs the local
sketch once, untimed, to report how far the sketch is from the exact statistics.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

COLUMNS = ["amount", "tenure", "plan"]


def make_data(work: Path, rows: int, partitions: int = 20) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    n = 200_000
    pd.DataFrame(
        {
            "amount": rng.lognormal(3, 1, n),
            "tenure": rng.integers(0, 120, n).astype("float64"),
            "plan": rng.choice(["basic", "plus", "pro"], n, p=[0.6, 0.3, 0.1]),
        }
    ).to_parquet(work / "reference.parquet", index=False)
    (work / "current").mkdir()
    per = -(-rows // partitions)
    for i, start in enumerate(range(0, rows, per)):
        m = min(per, rows - start)
        pd.DataFrame(
            {
                "amount": rng.lognormal(3.1, 1.05, m),
                "tenure": rng.integers(0, 130, m).astype("float64"),
                "plan": rng.choice(["basic", "plus", "pro", "team"], m, p=[0.5, 0.3, 0.15, 0.05]),
            }
        ).to_parquet(work / "current" / f"part-{i:03d}.parquet", index=False)


def peak_rss_kib() -> int:
    """This process's peak resident memory (VmHWM), in KiB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def child(mode: str, work: Path) -> None:
    import pandas as pd

    from loopline.stats import drift_frame, prepare_references

    refs = prepare_references(pd.read_parquet(work / "reference.parquet"))
    t0 = time.perf_counter()
    if mode == "in-memory":
        stats = drift_frame(refs, pd.read_parquet(work / "current"))
    else:
        from loopline.batch import drift_dataset

        engine = "local"
        if mode == "sketch-ray":
            import ray

            ray.init(num_cpus=os.cpu_count() or 2, include_dashboard=False, log_to_driver=False)
            engine = "ray"
        stats = drift_dataset(refs, work / "current", engine=engine, chunk_size=500_000)
    seconds = time.perf_counter() - t0
    peak = peak_rss_kib() / 1024  # KiB → MiB
    keep = ("psi", "js", "ks", "wasserstein", "chi2", "ks_error_bound", "wasserstein_error_bound")
    slim = {c: {k: v for k, v in s.items() if k in keep} for c, s in stats.items()}
    print(json.dumps({"seconds": seconds, "peak_rss_mib": peak, "stats": slim}))


def run(mode: str, work: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--work", str(work)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def diffs_vs_exact(exact: Any, sketch: Any) -> dict[str, float]:
    """|sketch - exact| for every statistic both have, where they differ."""
    diffs = {
        f"{c}.{k}": abs(sketch[c][k] - v) for c, s in exact.items() for k, v in s.items()
        if k in sketch[c]
    }  # fmt: skip
    return {k: float(f"{v:.3g}") for k, v in diffs.items() if v}


HARNESS = {  # --harness MODE: (tool, what it is)
    "sketch-local": ("Loopline", "mergeable summaries, local engine, 500,000-row chunks"),
    "sketch-ray": ("Ray", "the same summaries on a local Ray cluster (Ray Data reads and "
                   "summarizes; starting the cluster is inside the timed region)"),
    "in-memory": ("pandas", "the whole current frame read into pandas, then exact "
                  "`drift_frame`"),
}  # fmt: skip


def harness(mode: str, rows: int, reps: int) -> None:
    """One method for ``benchmarks/run.py``: best of ``reps`` fresh children, the JSON line."""
    from importlib.metadata import version

    work = Path(tempfile.mkdtemp(prefix="loopline-bench-drift-"))
    make_data(work, rows)
    try:
        runs = [run(mode, work) for _ in range(reps)]
        sketch = run("sketch-local", work)["stats"] if mode == "in-memory" else None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    best = min(runs, key=lambda r: float(r["seconds"]))  # type: ignore[arg-type]
    peak = max(float(r["peak_rss_mib"]) for r in runs)  # type: ignore[arg-type]
    tool, what = HARNESS[mode]
    package = {"Loopline": "loopline", "Ray": "ray", "pandas": "pandas"}[tool]
    whose = (
        "the driver process (Ray's workers not counted)" if mode == "sketch-ray" else "the process"
    )
    notes = [f"{tool} ({mode}): {what}; peak RSS of {whose} {peak:,.0f} MiB."]
    if mode == "in-memory":
        diffs = diffs_vs_exact(best["stats"], sketch)
        shown = ", ".join(f"{k} {v:.2g}" for k, v in diffs.items()) or "none"
        notes.append(f"Largest |sketch - exact| (local sketch vs this exact run): {shown}.")
    else:
        flat = json.dumps(best["stats"], sort_keys=True).encode()
        notes.append(f"{tool} ({mode}): statistics digest {hashlib.sha256(flat).hexdigest()[:16]}.")
    print(
        json.dumps(
            {
                "tool": tool,
                "version": version(package),
                "python": platform.python_version(),
                "results": {f"drift_{rows // 1_000_000}m_rows": float(best["seconds"])},  # type: ignore[arg-type]
                "case_notes": {},
                "notes": notes,
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--in-memory", action="store_true")
    ap.add_argument("--ray", action="store_true")
    ap.add_argument("--child")
    ap.add_argument("--work")
    ap.add_argument("--harness", choices=sorted(HARNESS), help="one method, run.py JSON")
    ap.add_argument("--reps", type=int, default=1, help="with --harness: best of N")
    ap.add_argument("--quick", action="store_true", help="with --harness: 1,000,000 rows")
    args = ap.parse_args()
    if args.child:
        child(args.child, Path(args.work))
        return
    if args.harness:
        harness(args.harness, 1_000_000 if args.quick else args.rows, args.reps)
        return
    work = Path(tempfile.mkdtemp(prefix="loopline-bench-drift-"))
    make_data(work, args.rows)
    modes = (
        ["sketch-local"]
        + (["sketch-ray"] if args.ray else [])
        + (["in-memory"] if args.in_memory else [])
    )
    try:
        results = {m: run(m, work) for m in modes}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out: dict[str, object] = {"rows": args.rows}
    for m, r in results.items():
        out[f"{m}_seconds"] = round(float(r["seconds"]), 2)  # type: ignore[arg-type]
        out[f"{m}_peak_rss_mib"] = round(float(r["peak_rss_mib"]), 0)  # type: ignore[arg-type]
    if "in-memory" in results:
        exact, sketch = results["in-memory"]["stats"], results["sketch-local"]["stats"]
        out["max_abs_diff_vs_exact"] = diffs_vs_exact(exact, sketch)
    if "sketch-ray" in results:
        out["ray_equals_local"] = results["sketch-ray"]["stats"] == results["sketch-local"]["stats"]
    out["sketch_stats"] = results["sketch-local"]["stats"]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
