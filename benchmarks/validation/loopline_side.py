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
from loopline.data import Column, Contract, validate


def contract() -> Contract:
    columns = {"id": Column(dtype="int", nullable=False, unique=True)}
    columns |= {f: Column(dtype="float", nullable=False, min=w.LOW, max=w.HIGH) for f in w.FLOATS}
    columns |= {s: Column(dtype="string", nullable=False, allowed=w.LEVELS) for s in w.STRINGS}
    return Contract(name="bench", columns=columns, strict=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="accepted; the workload is fixed")
    args = parser.parse_args()
    spec = contract()

    def build(frame: pd.DataFrame) -> Callable[[], object]:
        report = validate(frame, spec)
        counted = ("dtype", "not_null", "unique", "range", "allowed")
        checks = sum(r.rule in counted for r in report.rules)
        assert report.verdict == "passed" and checks == w.CHECKS, (report.summary(), checks)
        return lambda: validate(frame, spec)

    w.run_cases("Loopline", ll.__version__, build, args.reps)


if __name__ == "__main__":
    main()
