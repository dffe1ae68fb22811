"""Loopline side of the web-UI benchmark: every page's latency against the 500 ms budget.

Run by ``benchmarks/run.py`` with the product interpreter in a fresh temporary directory as
cwd; the measurement is ``pages.py``'s (10,000 runs, 100 versions, in-process requests with a
viewer's cookie). Prints one JSON object on its last stdout line:
``{"tool", "version", "python", "results": {page: seconds}, "case_notes", "notes"}``, where a
page's figure is its slowest request: the first (cold) one or the slowest of the repeats.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys

from pages import BUDGET_MS, measure

import loopline as ll


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=3, help="repeats after the first request")
    parser.add_argument("--quick", action="store_true", help="1,000 runs and 10 versions")
    parser.add_argument("--repeat", type=int, default=7, help="at least this many repeats")
    args = parser.parse_args()
    runs, versions = (1_000, 10) if args.quick else (10_000, 100)
    repeat = max(args.reps, args.repeat)
    measured = measure(runs, versions, repeat)
    pages = measured.pages
    over = [p.label for p in pages if p.worst_ms > BUDGET_MS]
    medians = ", ".join(f"`{p.label}` {p.median_ms:.0f}" for p in pages)
    notes = [
        f"Store: {runs:,} runs, {versions} model versions, {measured.audit_events:,} audit "
        f"events (filled untimed in {measured.fill_seconds:.0f} s); SQLite.",
        f"Loopline figure = the page's slowest request: its first (cold caches) or the slowest "
        f"of {repeat} more. Median of those {repeat}, ms: {medians}.",
        f"Over the {BUDGET_MS:.0f} ms budget: {', '.join(over) if over else 'none'}.",
    ]
    print(
        json.dumps(
            {
                "tool": "Loopline",
                "version": ll.__version__,
                "python": platform.python_version(),
                "how": f"each page's slowest of {repeat + 1} requests (the first, cold, included)",
                "results": {p.label: p.worst_ms / 1000 for p in pages},
                "case_notes": {},
                "notes": notes,
            }
        )
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
