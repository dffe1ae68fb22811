"""Property tests: the shortcuts a passing column takes (block-wise min/max, the sorted-ids
probe, distinct values instead of rows) give the same report as checking every row.

Columns are long enough to span several `min_max` blocks and the `_ascending` probe, with a
few drawn values (nulls, NaN, ints at and just past the bounds, unknown text) planted at
drawn rows of an otherwise clean column, so both the "all pass" and the "some fail" paths run.
The reference below is the plain per-row definition, written without any of the shortcuts.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loopline.data import Column, Contract, validate
from loopline.data._view import BLOCK, min_max

LO, HI = -10, 10
LEVELS = ["a", "bb", "level_1", "ünï", ""]
SIZES = [0, 1, 2, 1023, 1025, 2 * BLOCK + 3]  # around the sorted-ids probe and the blocks

# What may be planted in each kind of column (None is a null in that storage).
PLANTS: dict[str, list[Any]] = {
    "float": [None, math.nan, LO, HI, LO - 0.5, HI + 1e-9, math.inf, -math.inf, 0.0],
    "int": [LO - 1, LO, HI, HI + 1, 0, -(2**62), 2**62],
    "Int64": [None, LO - 1, LO, HI, HI + 1, 0],
    "arrow": [None, *LEVELS, "zz", "level_2", "A"],
    "object": [None, *LEVELS, "zz", "level_2"],
    "category": [None, *LEVELS, "zz"],
}
CONTRACT_DTYPE = {
    "float": "float",
    "int": "int",
    "Int64": "int",
    "arrow": "string",
    "object": "string",
    "category": "category",
}


def is_null(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


@st.composite
def columns(draw: st.DrawFn) -> tuple[str, list[Any], bool]:
    kind = draw(st.sampled_from(sorted(PLANTS)))
    n = draw(st.sampled_from(SIZES))
    text = kind in ("arrow", "object", "category")
    sort = draw(st.booleans())  # sorted distinct ids take the probe's full pass
    if text:
        values: list[Any] = [LEVELS[i % len(LEVELS)] for i in range(n)]
    elif sort:
        values = [LO + 20 * i / max(n, 1) for i in range(n)]
    else:
        rng = np.random.default_rng(draw(st.integers(0, 2**16)))
        values = list(rng.uniform(LO, HI, n))
    if kind in ("int", "Int64"):
        # Sorted: strictly increasing (a unique rule can pass); else a few repeating values.
        values = list(range(-n // 2, n - n // 2)) if sort else [int(v) for v in values]
    plants = draw(
        st.lists(
            st.tuples(st.integers(0, max(n - 1, 0)), st.sampled_from(PLANTS[kind])), max_size=6
        )
    )
    for row, value in plants if n else []:
        values[row] = value
    return kind, values, draw(st.booleans())


def build(kind: str, values: list[Any]) -> pd.Series:
    if kind == "float":
        return pd.Series([math.nan if v is None else v for v in values], dtype="float64")
    if kind == "int":
        return pd.Series(values, dtype="int64")
    if kind == "Int64":
        return pd.Series(values, dtype="Int64")
    if kind == "arrow":
        return pd.Series(values, dtype="str")
    if kind == "object":
        return pd.Series(values, dtype="object")
    return pd.Series(values, dtype="category")


def reference(kind: str, values: list[Any], unique: bool) -> dict[str, list[int]]:
    """Failing rows per rule, one row at a time."""
    text = kind in ("arrow", "object", "category")
    nulls = [i for i, v in enumerate(values) if is_null(v)]
    out: dict[str, list[int]] = {"not_null": nulls}
    present = [(i, v) for i, v in enumerate(values) if not is_null(v)]
    if text:
        out["allowed"] = [i for i, v in present if v not in LEVELS]
    else:
        out["range"] = [i for i, v in present if not LO <= v <= HI]
    if unique:
        counts = Counter(v for _, v in present)
        out["unique"] = [i for i, v in present if counts[v] > 1]
    return out


def contract(kind: str, unique: bool) -> Contract:
    text = kind in ("arrow", "object", "category")
    bounds: dict[str, Any] = {"allowed": LEVELS} if text else {"min": LO, "max": HI}
    col = Column(dtype=CONTRACT_DTYPE[kind], nullable=False, unique=unique, **bounds)
    return Contract(name="fast", columns={"c": col}, severity="quarantine")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(columns())
def test_report_equals_row_by_row_reference(column: tuple[str, list[Any], bool]) -> None:
    kind, values, unique = column
    report = validate(pd.DataFrame({"c": build(kind, values)}), contract(kind, unique))
    expected = reference(kind, values, unique)
    rules = {r.rule: r for r in report.rules}
    assert rules["dtype"].status == "passed", rules["dtype"].message
    quarantined: set[int] = set()
    for rule, rows in expected.items():
        got = rules[rule]
        assert (got.status, got.failing_count) == ("failed" if rows else "passed", len(rows)), rule
        assert [e["row"] for e in got.examples] == rows[:5], rule
        quarantined |= set(rows)
    assert report.quarantined_rows == len(quarantined)
    positions = report._positions if report._positions is not None else np.zeros(0, np.int64)
    assert positions.tolist() == sorted(quarantined)


def agree(got: tuple[Any, Any, int], data: np.ndarray) -> None:
    floating = data.dtype.kind == "f"
    nan = np.isnan(data) if floating else np.zeros(data.shape, dtype=bool)
    clean = data[~nan]
    want = (clean.min(), clean.max()) if clean.size else (math.nan, math.nan)
    for g, w in zip(got[:2], want, strict=True):
        assert (is_null(float(g)) and is_null(float(w))) or g == w
        assert type(g) is type(w) or clean.size == 0
    assert got[2] == int(np.count_nonzero(nan))


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["float64", "float32", "int64", "uint8", "bool"]),
    st.lists(
        st.one_of(
            st.integers(-(2**7), 2**7), st.sampled_from([math.nan, math.inf, -math.inf, -0.0])
        ),
        max_size=60,
    ),
    st.integers(1, 8),
)
def test_min_max_in_blocks_equals_whole_array(dtype: str, raw: list[Any], block: int) -> None:
    if dtype != "float64" and dtype != "float32":
        raw = [v for v in raw if isinstance(v, int)]
    with np.errstate(invalid="ignore", over="ignore"):
        data = np.array(raw, dtype="float64").astype(dtype)
    agree(min_max(data, block), data)
    agree(min_max(data), data)
    agree(min_max(data, None), data)


@pytest.mark.parametrize("where", [0, 1, 1023, 1024, 5000, 2 * BLOCK])
def test_sorted_ids_with_one_late_repeat_fail_unique(where: int) -> None:
    ids = np.arange(2 * BLOCK + 1, dtype="int64")
    ids[where + 1 if where + 1 < ids.size else where - 1] = ids[where]
    report = validate(pd.DataFrame({"id": ids}), Contract(columns={"id": Column(unique=True)}))
    rule = next(r for r in report.rules if r.rule == "unique")
    assert rule.failing_count == 2, rule.message
