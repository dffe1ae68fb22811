"""The kind of a column's storage, in the contract's words (int, float, string, …).

Its own module because both the dtype rule (`_dtypes`) and the column view (`_view`) need
it, and the dtype rule reads a view: here it sits below both.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

# numpy dtype.kind -> kind; timedelta, complex and bytes are "other", as below
_NUMPY = {"b": "bool", "i": "int", "u": "int", "f": "float", "M": "datetime", "O": "object"}


def kind_of(dtype: Any) -> str:
    """int | float | bool | string | category | datetime | object | other."""
    if isinstance(dtype, np.dtype):  # the common case, without pandas' generic type tests
        return _NUMPY.get(dtype.kind, "other")
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if isinstance(dtype, pd.StringDtype):
        return "string"
    if isinstance(dtype, pd.ArrowDtype):
        t = dtype.pyarrow_dtype
        if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
            return "string"
        if pa.types.is_timestamp(t) or pa.types.is_date(t):
            return "datetime"
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if dtype == np.dtype(object):
        return "object"
    return "other"


__all__ = ["kind_of"]
