"""Signatures: the columns a model reads and the values it returns, checked at the door."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from loopline.errors import InvalidInputError
from loopline.models._columns import ColumnSpec, malformed
from loopline.models._conform import conform
from loopline.models._frames import (
    JsonScalar,
    TabularData,
    as_frame,
    dtype_name,
    family,
    json_scalars,
)

MAX_CLASSES = 1000
"""Past this many distinct labels a class list stops being useful, and ints are a count."""

OUTPUT_KINDS = ("regression", "classification", "multioutput", "other")


@dataclass(frozen=True)
class OutputSpec:
    """What `predict` returns: dtype name, kind, class labels (if known) and values per row."""

    dtype: str
    kind: str
    classes: tuple[JsonScalar, ...] | None = None
    width: int = 1

    def to_dict(self) -> dict[str, Any]:
        classes = None if self.classes is None else list(self.classes)
        return {"dtype": self.dtype, "kind": self.kind, "classes": classes, "width": self.width}

    @classmethod
    def from_dict(cls, data: Any) -> OutputSpec:
        if not isinstance(data, dict):
            raise malformed(f"the output must be an object, got {data!r}")
        dtype, kind, classes, width = (data.get(k) for k in ("dtype", "kind", "classes", "width"))
        if not isinstance(dtype, str) or kind not in OUTPUT_KINDS:
            raise malformed(f"the output needs a dtype and a kind in {OUTPUT_KINDS}, got {data!r}")
        if not isinstance(width, int) or isinstance(width, bool) or width < 1:
            raise malformed(f"the output width must be a positive integer, got {width!r}")
        if classes is None:
            return cls(dtype, kind, None, width)
        scalars = json_scalars(classes) if isinstance(classes, list) else None
        if scalars is None:
            raise malformed(f"the output classes must be a list of scalars, got {classes!r}")
        return cls(dtype, kind, scalars, width)


@dataclass(frozen=True)
class Signature:
    """The ordered input columns a model was trained on, and what it predicts."""

    inputs: tuple[ColumnSpec, ...]
    output: OutputSpec | None = None

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.inputs)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict; `Signature.from_dict` reads it back to an equal signature."""
        output = None if self.output is None else self.output.to_dict()
        return {"inputs": [c.to_dict() for c in self.inputs], "output": output}

    @classmethod
    def from_dict(cls, data: Any) -> Signature:
        """Read what `to_dict` wrote; anything else raises `InvalidInputError`."""
        if not isinstance(data, dict) or not isinstance(data.get("inputs"), list):
            raise malformed("expected an object with an 'inputs' list")
        inputs = tuple(ColumnSpec.from_dict(c) for c in data["inputs"])
        names = [c.name for c in inputs]
        for name in names:
            if names.count(name) > 1:
                raise malformed(f"column {name!r} is listed twice")
        output = data.get("output")
        return cls(inputs, None if output is None else OutputSpec.from_dict(output))

    def check(self, df: pd.DataFrame, *, allow_extra: bool = False) -> pd.DataFrame:
        """`df` ready for the model, or `InvalidInputError` naming every column that is wrong.

        The returned frame has the signature's columns in its order, with lossless casts
        applied: int → float, int widths, string → category (with the training categories,
        so codes match) and ISO 8601 strings → datetime. Columns the signature does not list
        are an error unless `allow_extra`, in which case they are dropped. The error's
        `details["problems"]` lists each problem as {column, problem, expected, actual}.
        """
        if not isinstance(df, pd.DataFrame):
            raise InvalidInputError(
                f"expected a pandas DataFrame, got {type(df).__name__}",
                hint="wrap the rows in pd.DataFrame(...) with the model's column names",
            )
        return conform(as_frame(df), self.inputs, allow_extra=allow_extra)


def _values(data: Any, what: str) -> tuple[pd.Series[Any], int]:
    """Labels or predictions as one flat Series, plus how many values each row has."""
    if isinstance(data, pd.Series):
        return data, 1
    if isinstance(data, pd.DataFrame):
        if data.shape[1] == 1:
            return data.iloc[:, 0], 1
        return pd.Series(data.to_numpy().ravel()), data.shape[1]
    to_pandas = getattr(data, "to_pandas", None)  # pyarrow Array / ChunkedArray / Table
    if callable(to_pandas):
        return _values(to_pandas(), what)
    array = np.asarray(data)
    if array.ndim == 1:
        return pd.Series(array), 1
    if array.ndim == 2:
        return pd.Series(array.ravel()), array.shape[1]
    raise InvalidInputError(
        f"{what} must be one value per row (or one row of values), got a {array.ndim}-D array",
        hint=f"pass {what} as a 1-D array or a Series",
    )


def _classes(labels: pd.Series[Any]) -> tuple[JsonScalar, ...] | None:
    distinct = list(labels.dropna().unique())
    if len(distinct) > MAX_CLASSES:
        return None
    # sklearn's classes_ (and so predict_proba's columns) are sorted; mixed label types have
    # no order, so they keep the order they first appear in.
    with contextlib.suppress(TypeError):
        distinct = sorted(distinct)
    return json_scalars(distinct)


def _kind(labels: pd.Series[Any], width: int) -> str:
    if width > 1:
        return "multioutput"
    fam = family(dtype_name(labels))
    if fam == "float":
        return "regression"
    if fam == "int":
        # Many distinct integers are a count or an amount, not class labels.
        return "classification" if labels.nunique() <= MAX_CLASSES else "regression"
    if fam in ("bool", "string", "category"):
        return "classification"
    return "other"


def infer_signature(X: TabularData, y: Any = None, predictions: Any = None) -> Signature:
    """The signature of a model trained on `X`.

    X is a pandas DataFrame, a 2-D numpy array (columns named "0", "1", ...) or a pyarrow
    Table. The output spec takes its kind from `y` (or `predictions` if there is no `y`),
    the class list from `y` only (a few predictions rarely show every class) and its dtype
    and width from `predictions` (or `y`). Without either, the signature has no output.
    """
    frame = as_frame(X)
    inputs = []
    for name in frame.columns:
        column = frame[name]
        dtype = dtype_name(column)
        categories = None
        if dtype == "category":
            cats = column.cat.categories
            categories = json_scalars(cats) if len(cats) <= MAX_CLASSES else None
        nullable = bool(column.isna().any())
        inputs.append(ColumnSpec(str(name), dtype, categories, nullable))
    if y is None and predictions is None:
        return Signature(tuple(inputs))
    labels, label_width = _values(y, "y") if y is not None else _values(predictions, "predictions")
    kind = _kind(labels, label_width)
    classes = _classes(labels) if y is not None and kind == "classification" else None
    values, width = (labels, label_width)
    if predictions is not None and y is not None:
        values, width = _values(predictions, "predictions")
    output = OutputSpec(dtype_name(values), kind, classes, width)
    return Signature(tuple(inputs), output)


__all__ = ["MAX_CLASSES", "ColumnSpec", "OutputSpec", "Signature", "infer_signature"]
