"""Pandera side of the validation benchmark: the same 78 checks as `loopline_side.py`.

Runs from `benchmarks/.venv-pandera` (requirements-pandera.txt). `lazy=True` so that, like
Loopline, every check runs and all failures would be collected rather than the first raised.
`inplace=True`, its documented way to skip the copy of the frame that `validate` otherwise
makes (nothing is coerced here, so nothing is changed); it is faster than the default. Its
default pandas backend: the Narwhals one (`PANDERA_USE_NARWHALS_BACKEND`) was slower here.
Pandera has no parallel option for pandas DataFrames.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from importlib.metadata import version

import _workload as w
import pandas as pd
import pandera.pandas as pa


def schema(text: object) -> pa.DataFrameSchema:
    """`text`: the dtype the string columns have ("str" for Arrow-backed, str for object)."""
    columns = {"id": pa.Column("int64", nullable=False, unique=True)}
    columns |= {
        f: pa.Column("float64", pa.Check.in_range(w.LOW, w.HIGH), nullable=False) for f in w.FLOATS
    }
    columns |= {s: pa.Column(text, pa.Check.isin(w.LEVELS), nullable=False) for s in w.STRINGS}
    return pa.DataFrameSchema(columns, strict=True)  # strict: the exact column list


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help=f"{w.QUICK_ROWS:,} rows")
    args = parser.parse_args()

    def build(frame: pd.DataFrame, case: w.Case) -> Callable[[], object]:
        spec = schema("str" if str(frame[w.STRINGS[0]].dtype) == "str" else str)
        spec.validate(frame, lazy=True, inplace=True)  # raises SchemaErrors if a check failed
        return lambda: spec.validate(frame, lazy=True, inplace=True)

    note = (
        "Pandera: `schema.validate(frame, lazy=True, inplace=True)` (`inplace=True` skips the "
        "copy its default makes; nothing is coerced), its default pandas backend, one thread."
    )
    w.run_cases("Pandera", version("pandera"), build, args.reps, args.quick, (note,))


if __name__ == "__main__":
    main()
