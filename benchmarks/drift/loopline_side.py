"""Loopline side of the drift benchmark (run by ``benchmarks/run.py`` with the product venv).

Cases (all five statistics for every column: KS with p-value, PSI, JS and Wasserstein for
floats; chi-square, PSI and JS for strings):
- ``raw_1m_x_25``: both raw frames in, as Evidently gets them (the reference is sorted too),
  text as Arrow-backed ``str`` on both sides;
- ``raw_1m_x_25_object``: the same with text as Python ``str`` objects on both sides;
- ``prepared_1m_x_25``: the reference prepared once (sorted and binned, as a monitor keeps it
  for every window), so only the current frame is scanned; preparation not in the time;
- ``prepared_with_prep_1m_x_25``: preparing the reference and scanning the current frame,
  timed together (the first window of a new model version);
- ``wide_100k_x_1000``: 100,000 rows x 1,000 floats, both raw frames in.
``--quick``: 100k rows, and the wide case 10k rows x 100 columns (the peer times the same).
Prints one JSON object on its last stdout line.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import _workload as w
import numpy as np
import scipy.stats as ss

from loopline import __version__
from loopline.monitoring import Threshold, judge
from loopline.stats import drift_frame, prepare_references


def verdicts(result: dict[str, dict[str, Any]]) -> str:
    drifted = [c for c, s in result.items() if judge(s, Threshold())["status"] != "ok"]
    return ", ".join(f"{c} (PSI {result[c]['psi']:.3f})" for c in drifted)


def scipy_check(ref: Any, cur: Any, result: dict[str, dict[str, Any]]) -> str:
    """Largest difference from scipy's own KS and Wasserstein on three float columns."""
    worst_ks = worst_w = 0.0
    for c in ("f00", "f03", "f05"):
        theirs = ss.ks_2samp(ref[c], cur[c])
        worst_ks = max(
            worst_ks,
            abs(result[c]["ks"] - theirs.statistic),
            abs(result[c]["ks_pvalue"] - theirs.pvalue),
        )
        worst_w = max(
            worst_w, abs(result[c]["wasserstein"] - ss.wasserstein_distance(ref[c], cur[c]))
        )
    return f"max |KS - scipy| = {worst_ks:.1e}, max |Wasserstein - scipy| = {worst_w:.1e}"


def raw_case(ref: Any, cur: Any, reps: int) -> tuple[float, str]:
    """(best seconds of `reps`, what one call's memory peak adds to the two frames)."""
    seconds, _ = w.timed(lambda: drift_frame(ref, cur), reps)
    size = w.frame_bytes(ref, cur)
    extra = w.peak_extra(lambda: drift_frame(ref, cur))
    peak = f"the two frames ({size / 2**20:.0f} MiB) + {extra / 2**20:.0f} MiB"
    return seconds, f"{peak} = {(size + extra) / size:.2f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="100k rows, 10k x 100 wide")
    args = parser.parse_args()
    rows = w.QUICK_ROWS if args.quick else w.ROWS
    results: dict[str, float] = {}
    notes: list[str] = []

    frames = {case: w.make_frames(rows, strings=s) for case, s in w.STORAGE.items()}
    memory = []
    for case, (ref_s, cur_s) in frames.items():
        results[case], peak = raw_case(ref_s, cur_s, args.reps)
        memory.append(f"{case}: {peak}")
    ref, cur = frames["raw_1m_x_25"]
    del frames["raw_1m_x_25_object"]
    raw = drift_frame(ref, cur)
    prep_s, refs = w.timed(lambda: prepare_references(ref), args.reps)
    results["prepared_1m_x_25"], prepared = w.timed(lambda: drift_frame(refs, cur), args.reps)
    assert prepared == raw, "a prepared reference must give the same statistics"
    results["prepared_with_prep_1m_x_25"], _ = w.timed(
        lambda: drift_frame(prepare_references(ref), cur), args.reps
    )
    wide_rows = w.QUICK_WIDE_ROWS if args.quick else w.WIDE_ROWS
    wide_cols = w.QUICK_WIDE_COLUMNS if args.quick else w.WIDE_COLUMNS
    wide_ref, wide_cur = w.make_wide(wide_rows, wide_cols)
    results["wide_100k_x_1000"], _ = w.timed(lambda: drift_frame(wide_ref, wide_cur), 1)

    notes.append(
        f"Loopline: {rows:,} rows; columns on a pool of {os.cpu_count()} threads (one per "
        "core); Evidently's report has no parallel option and computes its columns one after "
        "another in one thread. Peak "
        f"memory while computing {'; '.join(memory)}."
    )
    prepared_s = results["prepared_1m_x_25"]
    notes.append(
        f"Loopline: preparing the reference (once per model version) takes {prep_s:.2f} s "
        f"(best of {args.reps}); `prepared_1m_x_25` leaves it out ({prepared_s:.2f} s per "
        "window after that), `prepared_with_prep_1m_x_25` includes it. Evidently has no "
        "prepared reference: both its rows repeat its raw run."
    )
    notes.append(f"Loopline: equal to scipy: {scipy_check(ref, cur, raw)}.")
    notes.append(
        "Loopline flags (PSI over 10 reference-quantile bins, warn 0.1 / alert 0.2; small "
        f"windows must also be significant): {verdicts(raw)}."
    )
    case_notes = {}
    if args.quick:
        case_notes = {c: "100k rows (--quick)" for c in results}
        case_notes["wide_100k_x_1000"] = "10k rows x 100 columns (--quick)"
    stats = {c: {k: v for k, v in s.items() if isinstance(v, float)} for c, s in raw.items()}
    w.emit("Loopline", __version__, results, notes, case_notes=case_notes, values=stats)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
