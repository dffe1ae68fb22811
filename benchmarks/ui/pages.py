"""How long each web-UI page takes with 10,000 runs and 100 model versions in the store.

    .venv/bin/python benchmarks/ui/pages.py [--runs 10000] [--versions 100] [--repeat 7]

Fills a fresh store in a temporary folder (the same demo-like fill the UI tests use, scaled
up), then requests every page through the team server's app in-process (auth middleware,
cookie, governed store, template rendering: everything but the socket), signed in as a
viewer. The table shows each page's first request (cold caches: the DORA report, the
pipeline diagram), then the median and the slowest of the repeats. Exits 1 if any request
is over the budget (500 ms). Only the process's imports are warmed before (one request).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

BUDGET_MS = 500.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--versions", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    from fastapi.testclient import TestClient
    from tests._team_server import _bootstrap_token
    from tests.ui._fill import MODEL, fill
    from tests.ui.conftest import make_settings, team_app

    from loopline.ops._roles import acting_as
    from loopline.store import SqlMetadataStore

    with tempfile.TemporaryDirectory() as tmp:
        settings = make_settings(Path(tmp) / ".loopline")
        store = SqlMetadataStore(settings.db_url)
        t0 = time.perf_counter()
        filled = fill(store, settings.home, n_runs=args.runs, n_versions=args.versions, steps=5)
        print(
            f"filled {args.runs:,} runs, {args.versions} versions, "
            f"{len(store.list_audit_events()):,} audit events in {time.perf_counter() - t0:.1f} s"
        )
        with acting_as(None):
            token, _ = _bootstrap_token(store, "bench", "viewer", None)
        client = TestClient(team_app(settings))
        client.cookies.set("loopline_token", token)
        client.get("/login")  # imports (jinja2, templates): a server pays them once at start
        ten = "&".join(f"run={r}" for r in filled.runs[-10:])
        pages = [
            "/",
            f"/models/{MODEL}",
            f"/models/{MODEL}?page=5&version=1",
            f"/models/{MODEL}/deployment",
            "/runs",
            "/runs?sort=metric.auc+desc",
            f"/runs?page={args.runs // 50}",
            "/runs?tag=team%3Dgrowth&status=finished",
            f"/runs/compare?{ten}",
            f"/runs/{filled.runs[0]}",
            "/monitoring",
            f"/monitoring/{filled.monitor_id}",
            "/pipelines",
            "/audit",
            "/audit?q=rollback",
        ]
        rows = []
        for path in pages:
            times = []
            for _ in range(args.repeat + 1):
                t = time.perf_counter()
                r = client.get(path)
                times.append((time.perf_counter() - t) * 1000)
                if r.status_code != 200:
                    print(f"{path}: HTTP {r.status_code}\n{r.text[:2000]}")
                    return 1
            label = "/runs/compare?run=… (10 runs)" if "compare" in path else path
            label = label if len(label) < 48 else label[:45] + "…"
            warm = times[1:]
            rows.append((label, times[0], statistics.median(warm), max(warm), len(r.content)))
        store.close()
    width = max(len(p) for p, *_ in rows)
    print(f"\n{'page':<{width}}  first ms  median ms  slowest ms  size KiB")
    for path, first, med, worst, size in rows:
        flag = "  OVER" if max(first, worst) > BUDGET_MS else ""
        print(f"{path:<{width}}  {first:8.1f}  {med:9.1f}  {worst:10.1f}  {size / 1024:8.1f}{flag}")
    over = [p for p, first, _, worst, _ in rows if max(first, worst) > BUDGET_MS]
    print(f"\n{len(rows) - len(over)} of {len(rows)} pages under {BUDGET_MS:.0f} ms")
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
