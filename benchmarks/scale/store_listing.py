"""Listing costs against store size (issue 18), Loopline alone: growth curves.

    .venv/bin/python benchmarks/scale/store_listing.py [--max-runs 100000]

``benchmarks/run.py --only scale-store`` runs it with ``--harness`` (and ``--reps``,
``--quick``: up to 10k runs and 6 runs x 20,000 points) and prints the harness's JSON line
instead of the tables: seconds per case, held to the 50 ms budget of issue 18.

For 1k, 10k and 100k runs of 40 metric points each (SQLite, filled in bulk straight into the
schema, untimed), times through the store API, median of 7 after one warm-up:
- `runs list`: the newest 50 runs of the experiment (the CLI's default listing);
- `runs list --sort 'metric.auc desc'`: the 50 best by their latest `auc`.
Then 6 runs holding 1.2M points (the default listing, which must not read point histories),
and `models show`'s store call (`list_versions`: its default page, the newest 50) at 10, 100
and 1,000 versions, beside every version (`list_versions(limit=None)`, labelled "all").
Prints a markdown table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from loopline import __version__
from loopline.store import Lineage, SqlMetadataStore
from loopline.store._chunks import CHUNK_COLUMNS, split
from loopline.store.sql import _schema as t

POINTS = 40
REPS = 7  # median of this many calls after a warm-up (the harness's --reps is not used)


def median_ms(call: Callable[[], Any], reps: int = REPS) -> float:
    call()  # warm-up: statement cache, page cache
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def fill_runs(store: SqlMetadataStore, n_runs: int, points: int, have: int) -> None:
    """Add runs up to `n_runs` (of `points` auc/loss points each) in bulk, untimed."""
    exp = store.create_run("bench", None, {}, {}, Lineage()).experiment_id
    rng = np.random.default_rng(have)
    now = time.time()
    with store._write_engine.begin() as conn:
        for start in range(have, n_runs, 5_000):
            ids = [uuid.uuid4().hex for _ in range(min(5_000, n_runs - start))]
            conn.execute(
                sa.insert(t.runs),
                [
                    {
                        "id": rid,
                        "experiment_id": exp,
                        "name": f"run-{rid[:8]}",
                        "status": "finished",
                        "started_at": now + start + i,
                        "heartbeat_at": now,
                    }
                    for i, rid in enumerate(ids)
                ],
            )
            batches = {
                rid: [
                    (key, float(v), s, now + s)
                    for s, v in enumerate(rng.uniform(size=points // 2))
                    for key in ("auc", "loss")
                ]
                for rid in ids
            }
            # the history as the store writes it: one chunk per run and key
            chunks = [
                dict(zip(CHUNK_COLUMNS, c.row(rid), strict=True))
                for rid, batch in batches.items()
                for c in split(batch)
            ]
            conn.execute(sa.insert(t.metric_chunks), chunks)
            last = [
                {"run_id": rid, "key": k, "value": v, "step": s, "timestamp": ts}
                for rid, batch in batches.items()
                for k, v, s, ts in batch[-2:]  # the highest step of each key comes last
            ]
            conn.execute(sa.insert(t.latest_metrics), last)


def fill_versions(store: SqlMetadataStore, n: int, have: int) -> None:
    run = store.create_run("bench-models", None, {}, {}, Lineage())
    for _ in range(have, n):
        store.create_version(
            "m",
            run_id=run.id,
            artifact_path="model",
            sha256="0" * 64,
            flavor="sklearn",
            signature=None,
            metrics={"auc": 0.5},
            git_commit=None,
            created_by="bench",
            card={},
        )


def measure(max_runs: int, points_per_run: int) -> dict[str, Any]:
    """Every figure, in milliseconds: runs listing up to `max_runs`, 6 runs of
    `points_per_run` points, list_versions (default page, and every version) at 10, 100
    and 1,000 versions."""
    out: dict[str, Any] = {"runs": [], "points": {}, "versions": []}
    with tempfile.TemporaryDirectory() as tmp:
        store = SqlMetadataStore(f"sqlite:///{Path(tmp) / 'runs.db'}")
        have = 0
        for n in (1_000, 10_000, 100_000):
            if n > max_runs:
                break
            fill_runs(store, n, POINTS, have)
            have = n
            newest = median_ms(lambda: store.list_runs("bench", limit=50))
            best = median_ms(lambda: store.list_runs("bench", limit=50, sort="metric.auc desc"))
            out["runs"].append({"runs": n, "list_ms": newest, "sort_by_metric_ms": best})
        store.close()

        store = SqlMetadataStore(f"sqlite:///{Path(tmp) / 'points.db'}")
        fill_runs(store, 6, points_per_run, 0)  # full size: 6 runs x 200,000 = 1.2M points
        out["points"] = {
            "runs": 6,
            "points": 6 * points_per_run,
            "list_ms": median_ms(lambda: store.list_runs("bench", limit=50)),
        }
        store.close()

        out["versions"] = measure_versions(Path(tmp))
    return out


def measure_versions(folder: Path) -> list[dict[str, Any]]:
    """`models show`'s store call (the default page) and every version, at 10, 100 and
    1,000 versions, in milliseconds. Alone: `python -c "from store_listing import *;
    print(measure_versions(Path('/tmp')))"` from benchmarks/scale."""
    store = SqlMetadataStore(f"sqlite:///{folder / 'versions.db'}")
    out = []
    have = 0
    for n in (10, 100, 1_000):
        fill_versions(store, n, have)
        have = n
        out.append(
            {
                "versions": n,
                "list_versions_ms": median_ms(lambda: store.list_versions("m")),
                "all_versions_ms": median_ms(lambda: store.list_versions("m", limit=None)),
            }
        )
    store.close()
    return out


def short(n: int) -> str:
    """1000 -> "1k", 1200000 -> "1.2m": case names stay short."""
    for size, unit in ((1_000_000, "m"), (1_000, "k")):
        if n >= size:
            return f"{n / size:g}{unit}"
    return str(n)


def harness_line(out: dict[str, Any], quick: bool) -> dict[str, Any]:
    """The JSON line of ``benchmarks/run.py``: seconds per case, in table order."""
    results: dict[str, float] = {}
    for r in out["runs"]:
        results[f"list_newest_50_of_{short(r['runs'])}_runs"] = r["list_ms"] / 1000
    for r in out["runs"]:
        results[f"sort_by_metric_{short(r['runs'])}_runs"] = r["sort_by_metric_ms"] / 1000
    p = out["points"]
    results[f"list_6_runs_of_{short(p['points'])}_points"] = p["list_ms"] / 1000
    for v in out["versions"]:
        results[f"list_versions_{short(v['versions'])}"] = v["list_versions_ms"] / 1000
    for v in out["versions"]:
        results[f"list_versions_all_{short(v['versions'])}"] = v["all_versions_ms"] / 1000
    runs, versions = out["runs"], out["versions"]
    sort_growth = runs[-1]["sort_by_metric_ms"] / runs[0]["sort_by_metric_ms"]
    version_growth = versions[-1]["list_versions_ms"] / versions[0]["list_versions_ms"]
    all_growth = versions[-1]["all_versions_ms"] / versions[0]["all_versions_ms"]
    notes = [
        f"Growth: sorting by a metric at {runs[-1]['runs']:,} runs takes {sort_growth:.1f}x "
        f"its time at {runs[0]['runs']:,} (issue 18: within 2x from 1k to 100k, at most 50 ms "
        f"at 100k); `list_versions` (`models show`'s default page, the newest 50) at "
        f"{versions[-1]['versions']:,} versions takes {version_growth:.1f}x its time at "
        f"{versions[0]['versions']:,} (issue 18: within 2x); every version "
        f"(`list_versions_all_N`, `limit=None`, what `models show --all` reads) "
        f"{all_growth:.1f}x, growing with their number; "
        f"the default listing of 6 runs holding {p['points']:,} points: {p['list_ms']:.1f} ms "
        "(issue 18: at most 20 ms).",
        f"SQLite, {os.cpu_count()} cores; stores filled in bulk straight into the schema, "
        "untimed; each figure through the store API (`SqlMetadataStore.list_runs` / "
        "`list_versions`), no CLI start-up.",
    ]
    if quick:
        notes.append("`--quick`: up to 10,000 runs and 6 runs x 20,000 points.")
    return {
        "tool": "Loopline",
        "version": __version__,
        "python": platform.python_version(),
        "results": results,
        "case_notes": {},
        "notes": notes,
        "how": f"median of {REPS} calls after a warm-up",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-runs", type=int, default=100_000)
    parser.add_argument("--harness", action="store_true", help="print benchmarks/run.py's JSON")
    parser.add_argument("--reps", type=int, default=REPS, help="accepted; always median of 7")
    parser.add_argument("--quick", action="store_true", help="10k runs, 6 x 20,000 points")
    args = parser.parse_args()
    max_runs = min(args.max_runs, 10_000) if args.quick else args.max_runs
    out = measure(max_runs, 20_000 if args.quick else 200_000)
    if args.harness:
        print(json.dumps(harness_line(out, args.quick)))
        return

    print("| runs (x40 points) | `runs list` (newest 50) | sorted by `metric.auc` |")
    print("|---:|---:|---:|")
    for r in out["runs"]:
        print(f"| {r['runs']:,} | {r['list_ms']:.1f} ms | {r['sort_by_metric_ms']:.1f} ms |")
    p = out["points"]
    print(f"\n6 runs holding {p['points']:,} points: `runs list` {p['list_ms']:.1f} ms\n")
    print("| versions | `models show` store call (newest 50) | every version (`--all`) |")
    print("|---:|---:|---:|")
    for v in out["versions"]:
        print(
            f"| {v['versions']:,} | {v['list_versions_ms']:.1f} ms "
            f"| {v['all_versions_ms']:.1f} ms |"
        )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
