"""Evidently side of the drift benchmark: `Report([DataDriftPreset(...)])` on the same frames.

Runs from `benchmarks/.venv-evidently` (requirements-evidently.txt: Evidently 0.7.23 needs
pandas < 3, so pandas 2.3 there, whose Arrow-backed `str` is the storage pandas 3 gives the
Loopline side: both sides get the same frames). `--method default` lets the preset choose its
tests (above 1,000 rows: Wasserstein distance (normed) for numbers, Jensen-Shannon for
categories); `ks-chisquare` and `psi` force those. Evidently has no prepared reference: both
frames go in on every run, so the `prepared_*` rows repeat the raw run (noted in the table).
With `--method default`: also the object-string frames and the wide case, all 1,000 columns
in one run, stopped after `--wide-timeout` seconds (then the table shows that time as a lower
bound and says so).
"""

from __future__ import annotations

import argparse
import signal
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
WIDE_TIMEOUT = 3_600.0  # seconds; at the last full run's pace the wide case takes ~10 minutes
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


class WideTimeout(BaseException):
    """Raised by the alarm; a BaseException so that no `except Exception` inside Evidently
    swallows it."""


def _alarm(signum: int, frame: Any) -> None:
    raise WideTimeout


def timed_run(method: str, ref: Any, cur: Any, reps: int) -> tuple[float, int, Any]:
    """(best seconds of `reps`, peak extra bytes of the first run, the last snapshot)."""
    # A run takes minutes: the first timed run also gives the memory peak.
    before_kib, extra = w.reset_peak(), 0
    best = float("inf")
    snapshot = None
    for rep in range(reps):
        t0 = time.perf_counter()
        snapshot = run(method, ref, cur)
        best = min(best, time.perf_counter() - t0)
        if rep == 0:
            extra = w.peak_since(before_kib)
    return best, extra, snapshot


def wide_case(rows: int, columns: int, timeout: float) -> tuple[float, str | None]:
    """One run over every column of the wide frames; (seconds, None) or (timeout, why)."""
    wide_ref, wide_cur = w.make_wide(rows, columns)
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    t0 = time.perf_counter()
    try:
        run("default", wide_ref, wide_cur)
        return time.perf_counter() - t0, None
    except WideTimeout:
        elapsed = time.perf_counter() - t0
        return elapsed, f"stopped after {elapsed:.0f} s, unfinished: a lower bound"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--method", choices=sorted(METHODS), default="default")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="100k rows, 10k x 100 wide")
    parser.add_argument("--wide-timeout", type=float, default=WIDE_TIMEOUT, help="seconds")
    args = parser.parse_args()
    rows = w.QUICK_ROWS if args.quick else w.ROWS
    small_ref, small_cur = w.make_frames(10_000)
    run(args.method, small_ref, small_cur)  # warm-up: imports and first-call setup, untimed
    results: dict[str, float] = {}
    case_notes: dict[str, str] = {}
    notes = []
    # Object strings cost Evidently (and Loopline) more; one method is enough to show it.
    storages = w.STORAGE if args.method == "default" else {"raw_1m_x_25": "str"}
    for case, strings in storages.items():
        ref, cur = w.make_frames(rows, strings=strings)
        size = w.frame_bytes(ref, cur)
        results[case], extra, snapshot = timed_run(args.method, ref, cur, args.reps)
        notes.append(
            f"Evidently ({args.method}, {case}): {rows:,} rows, text as {strings}; peak memory "
            f"= the two frames ({size / 2**20:.0f} MiB) + {extra / 2**20:.0f} MiB = "
            f"{(size + extra) / size:.2f}x; {chosen(snapshot)}."
        )
        del ref, cur
    for case in ("prepared_1m_x_25", "prepared_with_prep_1m_x_25"):
        results[case] = results["raw_1m_x_25"]
        case_notes[case] = "no prepared reference: the raw run"
    if args.method == "default":
        wide_rows = w.QUICK_WIDE_ROWS if args.quick else w.WIDE_ROWS
        wide_cols = w.QUICK_WIDE_COLUMNS if args.quick else w.WIDE_COLUMNS
        results["wide_100k_x_1000"], why = wide_case(wide_rows, wide_cols, args.wide_timeout)
        if why:
            case_notes["wide_100k_x_1000"] = why
        notes.append(
            f"Evidently (default), `wide_100k_x_1000`: {wide_rows:,} rows x {wide_cols:,} "
            "columns, every column in one run (no sampling, no extrapolation), "
            f"{'stopped at the' if why else 'within its'} {args.wide_timeout:.0f} s timeout."
        )
    if args.quick:
        for case in results:
            quick = "100k rows (--quick)"
            if case == "wide_100k_x_1000":
                quick = "10k rows x 100 columns (--quick)"
            case_notes[case] = f"{case_notes[case]}; {quick}" if case in case_notes else quick
    w.emit("Evidently", version("evidently"), results, notes, case_notes=case_notes)


if __name__ == "__main__":
    main()
