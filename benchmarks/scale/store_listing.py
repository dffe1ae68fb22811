"""Listing costs against store size (issue 18), Loopline alone: growth curves.

    .venv/bin/python benchmarks/scale/store_listing.py [--max-runs 100000]

For 1k, 10k and 100k runs of 40 metric points each (SQLite, filled in bulk straight into the
schema, untimed), times through the store API, median of 7 after one warm-up:
- `runs list`: the newest 50 runs of the experiment (the CLI's default listing);
- `runs list --sort 'metric.auc desc'`: the 50 best by their latest `auc`.
Then 6 runs holding 1.2M points (the default listing, which must not read point histories),
and `models show`'s store call (`list_versions`) at 10, 100 and 1,000 versions.
Prints a markdown table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from loopline.store import Lineage, SqlMetadataStore
from loopline.store import _schema as t

POINTS = 40


def median_ms(call: Callable[[], Any], reps: int = 7) -> float:
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
            rows = [
                {"run_id": rid, "key": key, "value": float(v), "step": s, "timestamp": now + s}
                for rid in ids
                for s, v in enumerate(rng.uniform(size=points // 2))
                for key in ("auc", "loss")
            ]
            conn.execute(sa.insert(t.metrics), rows)
            last = {(r["run_id"], r["key"]): r for r in rows}  # highest step comes last
            conn.execute(sa.insert(t.latest_metrics), list(last.values()))


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-runs", type=int, default=100_000)
    args = parser.parse_args()
    out: dict[str, Any] = {"runs": [], "points": {}, "versions": []}
    with tempfile.TemporaryDirectory() as tmp:
        store = SqlMetadataStore(f"sqlite:///{Path(tmp) / 'runs.db'}")
        have = 0
        for n in (1_000, 10_000, 100_000):
            if n > args.max_runs:
                break
            fill_runs(store, n, POINTS, have)
            have = n
            newest = median_ms(lambda: store.list_runs("bench", limit=50))
            best = median_ms(lambda: store.list_runs("bench", limit=50, order_by="metric.auc desc"))
            out["runs"].append({"runs": n, "list_ms": newest, "sort_by_metric_ms": best})
        store.close()

        store = SqlMetadataStore(f"sqlite:///{Path(tmp) / 'points.db'}")
        fill_runs(store, 6, 200_000, 0)  # 6 runs x 200,000 points = 1.2M points
        out["points"] = {
            "runs": 6,
            "points": 1_200_000,
            "list_ms": median_ms(lambda: store.list_runs("bench", limit=50)),
        }
        store.close()

        store = SqlMetadataStore(f"sqlite:///{Path(tmp) / 'versions.db'}")
        have = 0
        for n in (10, 100, 1_000):
            fill_versions(store, n, have)
            have = n
            out["versions"].append(
                {"versions": n, "list_versions_ms": median_ms(lambda: store.list_versions("m"))}
            )
        store.close()

    print("| runs (x40 points) | `runs list` (newest 50) | sorted by `metric.auc` |")
    print("|---:|---:|---:|")
    for r in out["runs"]:
        print(f"| {r['runs']:,} | {r['list_ms']:.1f} ms | {r['sort_by_metric_ms']:.1f} ms |")
    p = out["points"]
    print(f"\n6 runs holding 1.2M points: `runs list` {p['list_ms']:.1f} ms\n")
    print("| versions | `models show` store call |")
    print("|---:|---:|")
    for v in out["versions"]:
        print(f"| {v['versions']:,} | {v['list_versions_ms']:.1f} ms |")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
