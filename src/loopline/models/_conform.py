"""Conforming an input frame to a signature: lossless casts, or one error naming every column."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from loopline.errors import InvalidInputError
from loopline.models._columns import ColumnSpec
from loopline.models._frames import dtype_name, family

_HINTS = {
    "missing": "add it to the input, or retrain without it",
    "extra": "drop it, or retrain the model with it",
    "dtype": "cast it or retrain",
    "nulls": "fill them or retrain",
    "values": "fix them or retrain",
}


@dataclass(frozen=True)
class _Problem:
    column: str
    problem: str  # a key of _HINTS
    expected: str | None
    actual: str | None
    text: str


def _astype(values: pd.Series[Any], dtype: str) -> pd.Series[Any]:
    return values.astype(pd.api.types.pandas_dtype(dtype))


def _mismatch(name: str, expected: str, actual: str) -> _Problem:
    text = f"column {name!r} is {actual}, the model expects {expected}"
    return _Problem(name, "dtype", expected, actual, text)


def _categorical(
    values: pd.Series[Any], spec: ColumnSpec, actual: str
) -> pd.Series[Any] | _Problem:
    if actual not in ("category", "string"):
        return _mismatch(spec.name, spec.dtype, actual)
    if spec.categories is None:
        return values if actual == "category" else values.astype("category")
    wanted = list(spec.categories)
    if actual == "category" and list(values.cat.categories) == wanted:
        return values
    # Tree models split on category codes; re-coding against the training categories keeps a
    # code meaning the same value it meant in training. Unseen values become missing.
    categories: pd.Index[Any] = pd.Index(wanted)
    codes = categories.get_indexer(pd.Index(np.asarray(values, dtype=object)))
    recoded = pd.Categorical.from_codes(codes, categories=categories)
    return pd.Series(recoded, index=values.index, name=values.name)


def _datetime(values: pd.Series[Any], spec: ColumnSpec, actual: str) -> pd.Series[Any] | _Problem:
    if family(actual) == "string":
        try:
            # JSON has no datetime type: requests carry ISO 8601 strings.
            values = pd.to_datetime(values, format="ISO8601")
        except (ValueError, TypeError):
            text = f"column {spec.name!r} has values that are not ISO 8601 datetimes"
            return _Problem(spec.name, "values", spec.dtype, actual, text)
        actual = dtype_name(values)
    if family(actual) != "datetime":
        return _mismatch(spec.name, spec.dtype, actual)
    try:
        return _astype(values, spec.dtype)
    except (ValueError, TypeError):  # pandas refuses to guess a timezone either way
        return _mismatch(spec.name, spec.dtype, actual)


def _cast(values: pd.Series[Any], spec: ColumnSpec) -> pd.Series[Any] | _Problem:
    expected, actual = spec.dtype, dtype_name(values)
    if not spec.nullable and values.isna().any():
        row = int(np.flatnonzero(values.isna().to_numpy())[0])
        text = (
            f"column {spec.name!r} has a missing value (first at row {row}); "
            "the model was trained without missing values there"
        )
        return _Problem(spec.name, "nulls", expected, actual, text)
    want, have = family(expected), family(actual)
    if want == "object":
        return values
    if want in ("float", "category", "datetime") and len(values) and values.isna().all():
        # Null in every row (JSON null, CSV empty): pandas cannot tell the type and reads
        # object; for a nullable column that is simply all missing, in the expected dtype.
        if want == "category":
            return _categorical(values.astype("string"), spec, "string")
        missing = values.astype("float64") if want == "float" else pd.to_datetime(values)
        return _astype(missing, expected)
    if want == "category":
        return _categorical(values, spec, actual)
    if want in ("int", "bool") and have == want:
        if values.isna().any():
            text = f"column {spec.name!r} has missing values, the model expects {expected}"
            return _Problem(spec.name, "nulls", expected, actual, text)
        if str(values.dtype) == expected:
            return values
        try:
            cast = _astype(values, expected)
        except (ValueError, TypeError, OverflowError):
            cast = None
        if cast is None or not bool((cast == values).all()):
            text = f"column {spec.name!r} has values that do not fit in {expected}"
            return _Problem(spec.name, "values", expected, actual, text)
        return cast
    if actual == expected:
        if want != "float" or str(values.dtype) == expected:
            return values
        return _astype(values, expected)  # a nullable Float64's pd.NA is NaN to numpy models
    if want == "float" and have in ("float", "int"):
        return _astype(values, expected)  # JSON writes 3.0 as 3, so ints must pass as floats
    if want == "datetime":
        return _datetime(values, spec, actual)
    return _mismatch(spec.name, expected, actual)


def _error(problems: list[_Problem]) -> InvalidInputError:
    fields = ("column", "problem", "expected", "actual")
    details = {"problems": [{k: getattr(p, k) for k in fields} for p in problems]}
    if len(problems) == 1:
        only = problems[0]
        return InvalidInputError(only.text, hint=_HINTS[only.problem], details=details)
    return InvalidInputError(
        f"{len(problems)} input columns do not match the model: "
        + "; ".join(p.text for p in problems),
        hint="fix each column named, or retrain the model on the new columns",
        details=details,
    )


def conform(
    frame: pd.DataFrame, inputs: Sequence[ColumnSpec], *, allow_extra: bool
) -> pd.DataFrame:
    """`frame` with `inputs`' columns, in order, cast losslessly; see `Signature.check`."""
    names = [spec.name for spec in inputs]
    problems: list[_Problem] = []
    casts: dict[str, pd.Series[Any]] = {}
    for spec in inputs:
        if spec.name not in frame.columns:
            text = f"column {spec.name!r} is missing, the model expects {spec.dtype}"
            problems.append(_Problem(spec.name, "missing", spec.dtype, None, text))
            continue
        column = frame[spec.name]
        result = _cast(column, spec)
        if isinstance(result, _Problem):
            problems.append(result)
        elif result is not column:
            casts[spec.name] = result
    if not allow_extra:
        known = set(names)
        for name in frame.columns:
            if name not in known:
                text = f"column {name!r} is not one the model was trained on"
                problems.append(_Problem(str(name), "extra", None, dtype_name(frame[name]), text))
    if problems:
        raise _error(problems)
    if not casts and list(frame.columns) == names:
        return frame
    out = frame[names]
    for name, values in casts.items():
        out[name] = values
    return out


__all__ = ["conform"]
