"""How long each web-UI page takes with 10,000 runs and 100 model versions in the store.

    .venv/bin/python benchmarks/ui/pages.py [--runs 10000] [--versions 100] [--repeat 7]

Fills a fresh store in a temporary folder (the same demo-like fill the UI tests use, scaled
up), then requests every page through the team server's app in-process (auth middleware,
cookie, governed store, template rendering: everything but the socket), signed in as a
viewer. The table shows each page's first request (cold caches: the DORA report, the
pipeline diagram), then the median and the slowest of the repeats. Exits 1 if any request
is over the budget (500 ms). Only the process's imports are warmed before (one request).

``benchmarks/run.py --only ui`` runs the same measurement through ``loopline_side.py`` and
writes each page's slowest request next to the budget in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

BUDGET_MS = 500.0


@dataclass
class Page:
    label: str
    first_ms: float  # the first request (cold caches)
    median_ms: float  # of the repeats
    slowest_ms: float  # of the repeats
    size: int  # bytes of the last answer

    @property
    def worst_ms(self) -> float:
        return max(self.first_ms, self.slowest_ms)


@dataclass
class Measured:
    pages: list[Page]
    fill_seconds: float
    audit_events: int


class PageError(RuntimeError):
    pass


def measure(runs: int, versions: int, repeat: int) -> Measured:
    """Fill a fresh store, then time every page: a first request and `repeat` more."""
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
        filled = fill(store, settings.home, n_runs=runs, n_versions=versions, steps=5)
        fill_seconds, audit_events = time.perf_counter() - t0, len(store.list_audit_events())
        with acting_as(None):
            token, _ = _bootstrap_token(store, "bench", "viewer", None)
        client = TestClient(team_app(settings))
        client.cookies.set("loopline_token", token)
        client.get("/login")  # imports (jinja2, templates): a server pays them once at start
        ten = "&".join(f"run={r}" for r in filled.runs[-10:])
        one_run = f"/runs/{filled.runs[0]}"
        pages = [
            "/",
            f"/models/{MODEL}",
            f"/models/{MODEL}?page=5&version=1",
            f"/models/{MODEL}/deployment",
            "/runs",
            "/runs?sort=metric.auc+desc",
            f"/runs?page={runs // 50}",
            "/runs?tag=team%3Dgrowth&status=finished",
            f"/runs/compare?{ten}",
            one_run,
            "/monitoring",
            f"/monitoring/{filled.monitor_id}",
            "/pipelines",
            "/audit",
            "/audit?q=rollback",
        ]
        rows = []
        for path in pages:
            times = []
            for _ in range(repeat + 1):
                t = time.perf_counter()
                r = client.get(path)
                times.append((time.perf_counter() - t) * 1000)
                if r.status_code != 200:
                    raise PageError(f"{path}: HTTP {r.status_code}\n{r.text[:2000]}")
            label = "/runs/compare?run=… (10 runs)" if "compare" in path else path
            label = "/runs/<id> (the oldest run)" if path == one_run else label
            label = label if len(label) < 48 else label[:45] + "…"
            warm = times[1:]
            rows.append(Page(label, times[0], statistics.median(warm), max(warm), len(r.content)))
        store.close()
    return Measured(rows, fill_seconds, audit_events)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--versions", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    try:
        measured = measure(args.runs, args.versions, args.repeat)
    except PageError as exc:
        print(exc)
        return 1
    rows = measured.pages
    print(
        f"filled {args.runs:,} runs, {args.versions} versions, "
        f"{measured.audit_events:,} audit events in {measured.fill_seconds:.1f} s"
    )
    width = max(len(p.label) for p in rows)
    print(f"\n{'page':<{width}}  first ms  median ms  slowest ms  size KiB")
    for p in rows:
        flag = "  OVER" if p.worst_ms > BUDGET_MS else ""
        print(
            f"{p.label:<{width}}  {p.first_ms:8.1f}  {p.median_ms:9.1f}  {p.slowest_ms:10.1f}  "
            f"{p.size / 1024:8.1f}{flag}"
        )
    over = [p for p in rows if p.worst_ms > BUDGET_MS]
    print(f"\n{len(rows) - len(over)} of {len(rows)} pages under {BUDGET_MS:.0f} ms")
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
