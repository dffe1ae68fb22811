"""Loopline side of the validation benchmark (see _workload.py for the data and the checks).

Prints one JSON object on its last stdout line, as every benchmark side does.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

# No store is needed (the contract has no trend rule), but never touch the caller's.
os.environ["LOOPLINE_HOME"] = os.path.join(os.getcwd(), ".loopline")

import _workload as w
import pandas as pd

import loopline as ll
import loopline.data._validate as engine  # its column pool size, pinned for the 1-thread rows
from loopline.data import Column, Contract, validate

POOL = engine.WORKERS  # Loopline's default: min(4, cores)


def contract() -> Contract:
    columns = {"id": Column(dtype="int", nullable=False, unique=True)}
    columns |= {f: Column(dtype="float", nullable=False, min=w.LOW, max=w.HIGH) for f in w.FLOATS}
    columns |= {s: Column(dtype="string", nullable=False, allowed=w.LEVELS) for s in w.STRINGS}
    return Contract(name="bench", columns=columns, strict=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help=f"{w.QUICK_ROWS:,} rows")
    args = parser.parse_args()
    spec = contract()

    def build(frame: pd.DataFrame, case: w.Case) -> Callable[[], object]:
        # The pool is read per call; frames under engine.PARALLEL_CELLS cells run inline anyway.
        engine.WORKERS = case.threads or POOL
        report = validate(frame, spec)
        counted = ("dtype", "not_null", "unique", "range", "allowed")
        checks = sum(r.rule in counted for r in report.rules)
        assert report.verdict == "passed" and checks == w.CHECKS, (report.summary(), checks)
        return lambda: validate(frame, spec)

    note = (
        f"Loopline checks columns on a pool of {POOL} threads (min(4, cores); this machine has "
        f"{os.cpu_count()} cores) once a frame has {engine.PARALLEL_CELLS:,} cells or more; "
        "`*_1_thread` rows pin it to one thread. Pandera and Great Expectations validate a "
        "pandas DataFrame in one thread: neither has a parallel option for pandas (Pandera's "
        "Dask, Modin and PySpark backends need another frame type), so their `*_1_thread` "
        "rows are the same workload run again."
    )
    w.run_cases("Loopline", ll.__version__, build, args.reps, args.quick, (note,))


if __name__ == "__main__":
    main()
