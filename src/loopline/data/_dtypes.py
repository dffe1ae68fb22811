"""Logical types: does a column hold what the contract says, and what do its values become?

A contract names logical types (int, float, string, …), not storage: `int64` vs `int32`, or
numpy vs Arrow storage, is not a contract violation. Two common storages are accepted with a
value check: floats holding only whole numbers for `int` (how pandas stores integers with
missing values) and object columns holding only strings for `string`. Any other storage is a
type mismatch; the column is then converted to the contract's type so the other rules can
still be checked, and the values that do not convert are the dtype rule's failing rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from loopline.data._kinds import kind_of

if TYPE_CHECKING:
    from loopline.data._view import View


_NATIVE = {
    "int": {"int"},
    "float": {"float", "int"},
    "number": {"float", "int"},
    "bool": {"bool"},
    "string": {"string"},
    "category": {"category", "string"},
    "datetime": {"datetime"},
}


@dataclass
class DtypeCheck:
    ok: bool  # storage is the contract's type (or an accepted storage of it)
    bad: np.ndarray | None  # non-null values that are not of the type / do not convert
    coerced: pd.Series | None  # the column converted to the contract's type, on mismatch


def _not_null(series: pd.Series) -> np.ndarray:
    out: np.ndarray = series.notna().to_numpy(dtype=bool)
    return out


def _non_strings(series: pd.Series) -> np.ndarray:
    """Non-null values of an object column that are not `str` (e.g. mixed types)."""
    if pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        return np.zeros(len(series), dtype=bool)
    # Reached only for a mixed column: pandas maps the builtin `type` in its C loop.
    types = series.map(type, na_action="ignore")
    out: np.ndarray = (series.notna() & ~types.isin([str, np.str_])).to_numpy(dtype=bool)
    return out


def _to_number(series: pd.Series) -> pd.Series:
    if kind_of(series.dtype) == "bool":
        return series.astype("float64")
    if kind_of(series.dtype) == "datetime":  # an instant is not a number: nothing converts
        return pd.Series(np.nan, index=series.index, dtype="float64")
    return pd.to_numeric(series.astype("object"), errors="coerce").astype("float64")


_BOOL_WORDS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}


def _convert(series: pd.Series, logical: str, kind: str) -> pd.Series:
    if logical in ("int", "float", "number"):
        return _to_number(series)
    if logical in ("string", "category"):
        return series.astype("object").where(series.notna(), None).astype("str")
    if logical == "bool":
        if kind in ("int", "float"):
            return series.map({1: True, 0: False}).astype("boolean")
        return series.astype("str").str.strip().str.lower().map(_BOOL_WORDS).astype("boolean")
    if logical == "datetime":
        if kind in ("int", "float", "bool"):
            return pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns, UTC]")
        return pd.to_datetime(series.astype("object"), errors="coerce", utc=True, format="mixed")
    raise ValueError(f"no conversion to {logical}")


def check_dtype(series: pd.Series, logical: str, view: View | None = None) -> DtypeCheck:
    """Compare a column with a logical type; convert it when the storage differs.

    `view`, when given, lends its distinct values: a text column is then checked on those
    (typically a handful) instead of every row.
    """
    kind = kind_of(series.dtype)
    if logical == "any":
        return DtypeCheck(True, None, None)
    if kind in _NATIVE[logical]:
        return DtypeCheck(True, None, None)
    if logical == "int" and kind == "float":
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            fractional = np.mod(values, 1.0) != 0.0  # True for ±inf too (mod gives NaN)
        bad = fractional & ~np.isnan(values)
        return DtypeCheck(True, bad if bad.any() else None, None)
    if logical in ("string", "category") and kind == "object":
        distinct = view.distinct() if view is not None else None
        text = distinct is not None and pd.api.types.infer_dtype(distinct, skipna=True)
        if text in ("string", "empty"):
            return DtypeCheck(True, None, None)
        bad = _non_strings(series)
        return DtypeCheck(True, bad if bad.any() else None, None)
    coerced = _convert(series, logical, kind)
    bad = _not_null(series) & ~_not_null(coerced)
    if logical == "int":
        values = coerced.to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            bad |= (np.mod(values, 1.0) != 0.0) & ~np.isnan(values)
        coerced = coerced.where(~bad)
        if not coerced.isna().any():
            coerced = coerced.astype("int64")
    return DtypeCheck(False, bad if bad.any() else None, coerced)


def is_numeric_kind(kind: str) -> bool:
    return kind in ("int", "float", "bool")


__all__ = ["DtypeCheck", "check_dtype", "is_numeric_kind", "kind_of"]
