"""Great Expectations side of the validation benchmark: the same 78 checks + exact column list.

Runs from `benchmarks/.venv-gx` (requirements-gx.txt), with an ephemeral (in-memory) context
and a pandas dataframe asset. Timed: `batch.validate(suite)`; the context, suite and batch
definition are built once, untimed, as a pipeline would. Its fastest documented settings:
`result_format="BOOLEAN_ONLY"` (pass/fail only: it skips the metrics that describe failures,
fewer than half as many metrics computed on this suite) and progress bars off. Great
Expectations has no parallel option for its pandas engine: one thread.
"""

from __future__ import annotations

import argparse
import logging
import os
import warnings
from collections.abc import Callable

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TQDM_DISABLE", "1")  # GX draws a progress bar per validation

import _workload as w
import great_expectations as gx
import great_expectations.expectations as gxe
import pandas as pd
from great_expectations.data_context.types.base import ProgressBarsConfig


def suite(name: str, frame_dtypes: dict[str, str]) -> gx.ExpectationSuite:
    s = gx.ExpectationSuite(name=name)
    s.add_expectation(gxe.ExpectTableColumnsToMatchSet(column_set=w.COLUMNS, exact_match=True))
    for col in w.COLUMNS:
        s.add_expectation(gxe.ExpectColumnValuesToBeOfType(column=col, type_=frame_dtypes[col]))
        s.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=col))
    s.add_expectation(gxe.ExpectColumnValuesToBeUnique(column="id"))
    for col in w.FLOATS:
        s.add_expectation(
            gxe.ExpectColumnValuesToBeBetween(column=col, min_value=w.LOW, max_value=w.HIGH)
        )
    for col in w.STRINGS:
        s.add_expectation(gxe.ExpectColumnValuesToBeInSet(column=col, value_set=w.LEVELS))
    return s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help=f"{w.QUICK_ROWS:,} rows")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("bench")

    def build(frame: pd.DataFrame, case: w.Case) -> Callable[[], None]:
        name = f"frame{len(context.suites.all())}"
        batch_definition = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(
            "whole"
        )
        checks = context.suites.add(suite(name, {c: str(t) for c, t in frame.dtypes.items()}))

        def validate() -> None:
            batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
            result = batch.validate(checks, result_format="BOOLEAN_ONLY")
            if not result.success:
                failed = [r.expectation_config.type for r in result.results if not r.success]
                raise SystemExit(f"Great Expectations reported failures on clean data: {failed}")

        validate()
        return validate

    note = (
        'Great Expectations: `batch.validate(suite, result_format="BOOLEAN_ONLY")` on an '
        "ephemeral context with progress bars off, pandas engine, one thread."
    )
    w.run_cases("Great Expectations", gx.__version__, build, args.reps, args.quick, (note,))


if __name__ == "__main__":
    main()
