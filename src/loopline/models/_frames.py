"""Tabular input and the stable dtype names signatures are written in."""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias, cast

import numpy as np
import pandas as pd

from loopline.errors import InvalidInputError

if TYPE_CHECKING:
    import pyarrow as pa

TabularData: TypeAlias = "pd.DataFrame | np.ndarray[Any, Any] | pa.Table"
"""What `infer_signature` and `LoadedModel.predict` accept: a DataFrame, a 2-D array or a Table."""

JsonScalar: TypeAlias = str | int | float | bool

_INT = re.compile(r"u?int(8|16|32|64)")
_FLOAT = re.compile(r"float(16|32|64)")
# infer_dtype's verdict on an object column → the dtype its values would take in a typed column.
_OBJECT_KINDS = {
    "string": "string",
    "boolean": "bool",
    "integer": "int64",
    "floating": "float64",
    "mixed-integer-float": "float64",
    "bytes": "bytes",
}


def _arrow_table(data: object) -> bool:
    # A pyarrow Table can only exist if pyarrow is already imported; don't import it to ask.
    pa = sys.modules.get("pyarrow")
    return pa is not None and isinstance(data, pa.Table)


def as_frame(data: object, names: Sequence[str] | None = None) -> pd.DataFrame:
    """`data` as a DataFrame with string column labels.

    A numpy array has no column names: its columns take `names` when there are as many of
    them (the signature's columns, matched by position), else "0", "1", ...
    """
    if isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, np.ndarray):
        if data.ndim != 2:
            raise InvalidInputError(
                f"expected a 2-D array (rows by columns), got a {data.ndim}-D array",
                hint="reshape it, e.g. x.reshape(-1, 1) for a single feature",
            )
        width = data.shape[1]
        columns = list(names) if names is not None and len(names) == width else None
        frame = pd.DataFrame(data, columns=columns or [str(i) for i in range(width)])
    elif _arrow_table(data):
        frame = data.to_pandas()  # type: ignore[attr-defined]
    else:
        raise InvalidInputError(
            f"cannot read a {type(data).__name__} as model input",
            hint="pass a pandas DataFrame, a 2-D numpy array or a pyarrow Table",
        )
    if not all(isinstance(c, str) for c in frame.columns):
        # Signatures are JSON, whose keys are strings; 0 and "0" must name the same column.
        frame = frame.rename(columns=str)
    duplicated = frame.columns[frame.columns.duplicated()]
    if len(duplicated):
        raise InvalidInputError(
            f"column {duplicated[0]!r} appears more than once in the input",
            hint="rename or drop the duplicate so each column name is unique",
        )
    return frame


def dtype_name(values: pd.Series[Any]) -> str:
    """The stable name of a column's dtype: "int64", "float64", "bool", "string", "category", ...

    Nullable and numpy flavours of a type share one name ("Int64" and int64 are both "int64";
    pandas' str, string[pyarrow] and object columns of str are all "string"), because a
    signature describes what the model needs, not how pandas happened to store it.
    """
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if isinstance(dtype, pd.StringDtype):
        return "string"
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_float_dtype(dtype):
        if isinstance(dtype, np.dtype):
            return dtype.name
        return str(np.dtype(cast(Any, dtype).numpy_dtype).name)  # Int64, Float32, int64[pyarrow]
    if dtype == np.dtype("O"):
        return _OBJECT_KINDS.get(pd.api.types.infer_dtype(values, skipna=True), "object")
    return str(dtype)


def family(dtype: str) -> str:
    """Which values a dtype name holds: int, float, bool, string, category, datetime or object."""
    if _INT.fullmatch(dtype):
        return "int"
    if _FLOAT.fullmatch(dtype):
        return "float"
    if dtype in ("bool", "string", "category", "object"):
        return dtype
    if dtype.startswith("datetime64"):
        return "datetime"
    return "other"


def json_scalars(values: Iterable[Any]) -> tuple[JsonScalar, ...] | None:
    """`values` as plain JSON scalars, or None if one has no exact JSON form (dates, NaN, ...)."""
    out: list[JsonScalar] = []
    for value in values:
        item = value.item() if isinstance(value, np.generic) else value
        if isinstance(item, float) and not math.isfinite(item):
            return None
        if not isinstance(item, str | int | float | bool):
            return None
        out.append(item)
    return tuple(out)


def records(frame: pd.DataFrame, limit: int) -> list[dict[str, Any]]:
    """The first `limit` rows as JSON-safe records (dates in ISO 8601, missing values as null)."""
    import json

    # to_json knows every pandas dtype; 15 digits is the most it keeps, enough for an example.
    text = frame.head(limit).to_json(orient="records", date_format="iso", double_precision=15)
    rows: list[dict[str, Any]] = json.loads(text or "[]")
    return rows


__all__ = [
    "JsonScalar",
    "TabularData",
    "as_frame",
    "dtype_name",
    "family",
    "json_scalars",
    "records",
]
