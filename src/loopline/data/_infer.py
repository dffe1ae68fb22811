"""A starting contract inferred from a sample: what the data looks like today.

The result is meant to be read and edited, so it is conservative about what it claims:
observed ranges are widened a little, allowed sets are written only for low-cardinality text,
`unique` only for columns that are unique and look like identifiers.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from loopline.data._contract import Column, Contract, RowCount
from loopline.data._dtypes import kind_of

SAMPLE_ROWS = 100_000
MAX_ALLOWED = 20  # distinct values up to which a text column gets an allowed set
_LOGICAL = {"int": "int", "float": "float", "bool": "bool", "string": "string"}
_LOGICAL |= {"category": "category", "datetime": "datetime"}


def _widen(lo: float, hi: float, integer: bool) -> tuple[float, float]:
    """Observed bounds plus 10% of the span, rounded outward; non-negative data stays so."""
    pad = (hi - lo) * 0.1 or abs(hi) * 0.1 or 1.0
    low, high = lo - pad, hi + pad
    if lo >= 0 > low:
        low = 0.0
    if integer:
        return float(math.floor(low)), float(math.ceil(high))
    digits = min(12, max(0, 2 - math.floor(math.log10(pad))))  # tiny spans: 12 decimals
    scale = 10.0**digits
    rounded = math.floor(low * scale) / scale, math.ceil(high * scale) / scale
    # Float rounding may land a hair inside the data; the data must pass its own contract.
    return min(rounded[0], lo), max(rounded[1], hi)


def _text_kind(s: pd.Series) -> str:
    inferred = pd.api.types.infer_dtype(s, skipna=True)
    return "string" if inferred in ("string", "empty") else "any"


def _column(s: pd.Series, n: int) -> Column:
    kind = kind_of(s.dtype)
    dtype = _LOGICAL.get(kind) or (_text_kind(s) if kind == "object" else "any")
    nulls = int(s.isna().sum())
    spec: dict[str, Any] = {"dtype": dtype, "nullable": nulls > 0}
    if nulls:
        spec["max_null_fraction"] = min(1.0, round(nulls / n * 2 + 0.01, 2))
    present = s.dropna()
    distinct = int(present.nunique())
    identifier = False
    if kind in ("int", "float") and len(present):
        values = present.to_numpy(dtype="float64")
        finite = values[np.isfinite(values)]
        if finite.size:
            lo, hi = _widen(float(finite.min()), float(finite.max()), kind == "int")
            spec["min"], spec["max"] = (int(lo), int(hi)) if kind == "int" else (lo, hi)
        identifier = kind == "int" and distinct == len(present) and len(present) > 1
    elif dtype in ("string", "category") and len(present):
        if distinct <= MAX_ALLOWED and distinct < max(2, len(present) // 2):
            spec["allowed"] = sorted(str(v) for v in present.unique())
        else:
            lengths = present.astype("str").str.len()
            spec["min_length"] = int(lengths.min())
            spec["max_length"] = int(lengths.max() * 2)
        identifier = distinct == len(present) and len(present) > 1
    name = str(s.name).lower()
    looks_like_id = name == "id" or name.endswith(("_id", "id", "_key", "uuid"))
    if identifier and looks_like_id:
        spec["unique"] = True
    return Column(**spec)


def infer_contract(
    data: pd.DataFrame, name: str | None = None, sample: int = SAMPLE_ROWS, seed: int = 0
) -> Contract:
    """A contract that `data` passes, to be reviewed and tightened by a person."""
    frame = data.sample(sample, random_state=seed) if len(data) > sample else data
    n = max(len(frame), 1)
    columns = {str(col): _column(frame[col], n) for col in frame.columns}
    return Contract(
        name=name,
        description=f"inferred from {len(data):,} rows ({len(frame):,} sampled); review it",
        columns=columns,
        strict=True,
        row_count=RowCount(min=1),
    )


__all__ = ["MAX_ALLOWED", "SAMPLE_ROWS", "infer_contract"]
