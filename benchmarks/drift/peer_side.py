"""Evidently side of the drift benchmark: `Report([DataDriftPreset(...)])` on the same frames.

Runs from `benchmarks/.venv-evidently` (requirements-evidently.txt: Evidently 0.7.23 needs
pandas < 3). `--method default` lets the preset choose its tests (above 1,000 rows:
Wasserstein distance (normed) for numbers, Jensen-Shannon for categories); `ks-chisquare` and
`psi` force those. Evidently has no prepared reference: both frames go in on every run, so the
`prepared_1m_x_25` row repeats the raw run. The wide case runs 100 of the 1,000 columns and is
scaled up by 10 (noted in the table).
"""

from __future__ import annotations

import argparse
import time
from importlib.metadata import version
from typing import Any

import _workload as w
from evidently import Report
from evidently.presets import DataDriftPreset

METHODS: dict[str, dict[str, str]] = {
    "default": {},
    "ks-chisquare": {"num_method": "ks", "cat_method": "chisquare"},
    "psi": {"method": "psi"},
}
WIDE_SAMPLE = 100
# Evidently reports p-values for these tests (drift when below the threshold) and distances
# for the rest (drift when at or above it).
P_VALUE_TESTS = {"ks", "chisquare", "z", "fisher_exact", "g_test", "t_test", "mannw", "anderson"}


def run(method: str, ref: Any, cur: Any) -> Any:
    return Report([DataDriftPreset(**METHODS[method])]).run(cur, ref)


def chosen(snapshot: Any) -> str:
    """Which test Evidently chose per column, and the columns it calls drifted."""
    methods: set[str] = set()
    drifted = []
    for m in snapshot.dict()["metrics"]:
        cfg = m.get("config", {})
        if not cfg.get("type", "").endswith("ValueDrift"):
            continue
        method, value, threshold = cfg["method"], float(m["value"]), cfg.get("threshold")
        methods.add(method)
        is_p_value = method in P_VALUE_TESTS or "p_value" in method
        if threshold is not None and (value < threshold if is_p_value else value >= threshold):
            drifted.append(f"{cfg['column']} ({value:.3g})")
    return f"tests {', '.join(sorted(methods))}; drifted: {', '.join(drifted) or 'none'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--method", choices=sorted(METHODS), default="default")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="100k rows, 10k wide rows")
    args = parser.parse_args()
    rows = 100_000 if args.quick else w.ROWS
    ref, cur = w.make_frames(rows)
    small_ref, small_cur = w.make_frames(10_000)
    run(args.method, small_ref, small_cur)  # warm-up: imports and first-call setup, untimed
    size = w.frame_bytes(ref, cur)
    # A run takes minutes: the first timed run also gives the memory peak.
    before_kib, extra = w.reset_peak(), 0
    best = float("inf")
    snapshot = None
    for rep in range(args.reps):
        t0 = time.perf_counter()
        snapshot = run(args.method, ref, cur)
        best = min(best, time.perf_counter() - t0)
        if rep == 0:
            extra = w.peak_since(before_kib)
    results = {"raw_1m_x_25": best, "prepared_1m_x_25": best}
    case_notes = {"prepared_1m_x_25": "no prepared reference: the raw run"}
    notes = [
        f"Evidently ({args.method}): {rows:,} rows; peak memory = the two frames "
        f"({size / 2**20:.0f} MiB) + {extra / 2**20:.0f} MiB = {(size + extra) / size:.2f}x; "
        f"{chosen(snapshot)}."
    ]
    if args.method == "default":
        wide_rows = 10_000 if args.quick else w.WIDE_ROWS
        wide_ref, wide_cur = w.make_wide(wide_rows)
        cols = list(wide_ref.columns[:WIDE_SAMPLE])
        t0 = time.perf_counter()
        run(args.method, wide_ref[cols], wide_cur[cols])
        scale = w.WIDE_COLUMNS / WIDE_SAMPLE
        results["wide_100k_x_1000"] = (time.perf_counter() - t0) * scale
        case_notes["wide_100k_x_1000"] = f"{WIDE_SAMPLE} columns timed, x{scale:.0f}"
    if args.quick:
        case_notes = {k: f"{v}; 100k rows (--quick)" for k, v in case_notes.items()}
        case_notes.setdefault("raw_1m_x_25", "100k rows (--quick)")
    w.emit("Evidently", version("evidently"), results, notes, case_notes=case_notes)


if __name__ == "__main__":
    main()
