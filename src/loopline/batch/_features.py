"""A chunk's features as the frame the model reads, checked against its signature cheaply.

`Signature.check` conforms a frame column by column in pandas: a null scan per column, dtype
names, casts. A chunk read from a typed file rarely needs any of it: a column whose Arrow type
already is the signature's numpy dtype is proven here from metadata (Arrow keeps each
column's null count) and, for floats, one vectorised NaN test. Only the other columns go
through `Signature.check`. The frame is the one `Signature.check` would return, column for
column, and a problem anywhere re-runs the full check, so errors read exactly as before.

When every feature has the same numeric type, the frame is one 2-D block built by Arrow
without the GIL (this runs in the reading thread), laid out column by column like the array
pandas would interleave from separate columns, so the model sees the same values in the
same memory order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from loopline.errors import LooplineError
from loopline.models import ColumnSpec, Signature


def _exact_dtype(spec: ColumnSpec) -> np.dtype[Any] | None:
    """The numpy dtype `spec` names, if it is a plain numeric or bool one spelled canonically
    ("float64", not "float"): `Signature.check` compares dtype names as strings."""
    try:
        dtype = np.dtype(spec.dtype)
    except TypeError:
        return None
    return dtype if dtype.kind in "biuf" and dtype.name == spec.dtype else None


def _proven(spec: ColumnSpec, column: pa.ChunkedArray) -> np.dtype[Any] | None:
    """The column's numpy dtype if `Signature.check` would pass it through untouched, going by
    its Arrow type and null count; its float values may still hold NaN (see `_has_nan`)."""
    dtype = _exact_dtype(spec)
    if dtype is None or column.type != pa.from_numpy_dtype(dtype):
        return None
    if column.null_count and not (spec.nullable and dtype.kind == "f"):
        # Missing ints or bools become floats or objects in pandas: the full check decides.
        return None
    return dtype


def _has_nan(values: np.ndarray[Any, Any]) -> Any:
    """Whether each column of `values` (or the 1-D `values`) may hold NaN. A sum is NaN if
    any term is, and costs one vectorised pass; inf - inf is a false alarm, which only sends
    the chunk to the full check."""
    return np.isnan(np.add.reduce(values, axis=0))


def _passes(spec: ColumnSpec, column: pa.ChunkedArray, values: pd.Series[Any]) -> bool:
    """Whether `Signature.check` would pass `values` (`column` as pandas) through untouched."""
    dtype = _proven(spec, column)
    if dtype is None or values.dtype != dtype:  # pandas metadata may have asked for Int64 & co
        return False
    if dtype.kind != "f" or spec.nullable or not len(values):
        return True
    return not _has_nan(values.to_numpy())


def frame_of(table: pa.Table, start: int) -> pd.DataFrame:
    # One block per column: Arrow's buffers are used as they are instead of being copied into
    # one 2-D block, which the model's own conversion to an array would copy again anyway.
    frame: pd.DataFrame = table.to_pandas(split_blocks=True)
    # Rows keep their place in the file, so a report's row labels point into the file.
    frame.index = pd.RangeIndex(start, start + len(frame))
    return frame


def _one_block(table: pa.Table, specs: Sequence[ColumnSpec], start: int) -> pd.DataFrame | None:
    """The features as one float/int block, or None unless every column is proven and of one
    tensor-convertible type."""
    types = {field.type for field in table.schema}
    kind = types.pop() if len(types) == 1 else None
    if kind is None or not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
        return None
    if any(_proven(s, table.column(s.name)) is None for s in specs):
        return None
    # Column-major like pandas' own interleaving, and nulls (nullable floats only) as NaN.
    values = table.to_tensor(null_to_nan=True, row_major=False).to_numpy()
    strict = np.array([not s.nullable for s in specs])
    if strict.any() and values.dtype.kind == "f" and _has_nan(values)[strict].any():
        return None
    index = pd.RangeIndex(start, start + table.num_rows)
    return pd.DataFrame(values, columns=[s.name for s in specs], index=index, copy=False)


def model_frame(
    table: pa.Table, signature: Signature | None, features: Sequence[str], start: int
) -> pd.DataFrame:
    """The frame `model.score` takes for the rows of `table` (row labels from `start`), equal
    to `signature.check(table's features as pandas, allow_extra=True)`; raises its errors."""
    table = table.select(list(features))
    if signature is None:
        return frame_of(table, start)
    specs = signature.inputs
    if table.num_rows and (fast := _one_block(table, specs, start)) is not None:
        return fast
    frame = frame_of(table, start)
    slow = [s for s in specs if not _passes(s, table.column(s.name), frame[s.name])]
    if not slow:
        return frame
    if len(slow) == len(specs):
        return signature.check(frame, allow_extra=True)
    names = [spec.name for spec in slow]
    try:
        checked = Signature(tuple(slow)).check(frame[names], allow_extra=True)
    except LooplineError:
        # The full check names every problem in signature order, as the caller expects.
        return signature.check(frame, allow_extra=True)
    out = frame[list(features)]
    for name in names:
        out[name] = checked[name]
    return out


__all__ = ["frame_of", "model_frame"]
