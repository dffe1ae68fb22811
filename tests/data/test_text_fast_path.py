"""The fixed-width shortcut of the allowed-set rule on Arrow text (`_text.all_in`).

It may only ever say "all allowed" when every value is; and on what it is built for (one byte
width <= 8, no nulls) it must say so. The report through `validate` must equal the row-by-row
definition whether the shortcut applies or not: widths mixed so the bytes still add up, a bad
value in the buffer's last bytes (compared without the 8-byte load), sliced and chunked arrays,
32-bit and 64-bit offsets.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import loopline.data._validate as engine
from loopline.data import Column, Contract, validate
from loopline.data._text import ROWS, all_in

# Short texts around the 8-byte word: multi-byte UTF-8, NUL bytes, the empty string.
ALPHABET = st.sampled_from(["a", "b", "z", "\x00", "é", "€", "7"])
TEXT = st.text(ALPHABET, max_size=9)


@st.composite
def cases(draw: st.DrawFn) -> tuple[pa.ChunkedArray, list[Any], list[Any]]:
    """(arrow column, its values, allowed set). Mostly fixed-width, so the shortcut runs."""
    pool = draw(st.lists(TEXT, min_size=1, max_size=6))
    if draw(st.integers(0, 3)):  # one byte width, as coded text usually has
        width = len(pool[0].encode())
        pool = [p for p in pool if len(p.encode()) == width]
    n = draw(st.sampled_from([1, 2, 3, 7, 9, 40, ROWS + 5]))
    values: list[Any] = [pool[i % len(pool)] for i in range(n)]
    plant = st.one_of(TEXT, st.sampled_from(pool))  # maybe another width, maybe not allowed
    for row, value in draw(st.lists(st.tuples(st.integers(0, n - 1), plant), max_size=3)):
        values[row] = value
    if draw(st.integers(0, 3)) == 0:
        values[draw(st.integers(0, n - 1))] = None
    # Usually every pool value is allowed (a passing column: the shortcut's case), plus others.
    some = st.lists(st.sampled_from(pool), max_size=len(pool))
    allowed = (pool if draw(st.integers(0, 3)) else draw(some)) + draw(st.lists(TEXT, max_size=3))
    kind = draw(st.sampled_from([pa.string(), pa.large_string()]))
    cut = draw(st.integers(0, n))
    head = draw(st.integers(0, 3))  # a sliced first chunk: its buffers start before its rows
    pad: list[Any] = [pool[0]] * head
    first = pa.array(pad + values[:cut], type=kind).slice(head)
    arrow = pa.chunked_array([first, pa.array(values[cut:], type=kind)], type=kind)
    return arrow, values, allowed


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_all_in_only_claims_what_holds_and_claims_it_on_fixed_width(
    case: tuple[pa.ChunkedArray, list[Any], list[Any]],
) -> None:
    arrow, values, allowed = case
    got = all_in(arrow, allowed)
    assert got in (True, None)
    truth = all(v in allowed for v in values if v is not None)
    if got:
        assert truth
    widths = {len(v.encode()) for v in values if v is not None}
    if truth and None not in values and len(widths) == 1 and max(widths) <= 8:
        assert got is True, (widths, allowed)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.booleans())
def test_allowed_report_equals_row_by_row(
    case: tuple[pa.ChunkedArray, list[Any], list[Any]], nullable: bool
) -> None:
    _, values, allowed = case
    frame = pd.DataFrame({"c": pd.Series(values, dtype="str")})
    spec = Column(dtype="string", nullable=nullable, allowed=allowed)
    report = validate(frame, Contract(columns={"c": spec}))
    rule = next(r for r in report.rules if r.rule == "allowed")
    bad = [i for i, v in enumerate(values) if v is not None and v not in allowed]
    assert (rule.status, rule.failing_count) == ("failed" if bad else "passed", len(bad))
    assert [e["row"] for e in rule.examples] == bad[:5]


@pytest.mark.parametrize("where", [0, 1, ROWS - 1, ROWS, 2 * ROWS + 2, -3, -2, -1])
@pytest.mark.parametrize("width", [1, 3, 7, 8])
def test_one_bad_value_anywhere_fails_the_rule(where: int, width: int) -> None:
    levels = [chr(ord("a") + k) * width for k in range(5)]
    values = [levels[i % 5] for i in range(2 * ROWS + 3)]
    values[where] = "q" * width  # same width, so only the word comparison can catch it
    frame = pd.DataFrame({"c": pd.Series(values, dtype="str")})
    assert all_in(pa.chunked_array([pa.array(values)]), levels) is None
    report = validate(frame, Contract(columns={"c": Column(allowed=levels)}))
    rule = next(r for r in report.rules if r.rule == "allowed")
    assert rule.failing_count == 1


def test_mixed_widths_that_add_up_are_not_taken_for_fixed() -> None:
    # 1 + 3 bytes = 2 per row on average: "a" + "bbb" reads as "ab", "bb" in 2-byte words.
    values = ["a", "bbb"] * 10
    assert all_in(pa.chunked_array([pa.array(values)]), ["ab", "bb"]) is None
    frame = pd.DataFrame({"c": pd.Series(values, dtype="str")})
    report = validate(frame, Contract(columns={"c": Column(allowed=["ab", "bb"])}))
    assert next(r for r in report.rules if r.rule == "allowed").failing_count == 20


def test_empty_strings_and_empty_columns() -> None:
    assert all_in(pa.chunked_array([pa.array(["", ""])]), [""]) is True
    assert all_in(pa.chunked_array([pa.array(["", ""])]), ["a"]) is None
    assert all_in(pa.chunked_array([], type=pa.large_string()), ["a"]) is True


def test_column_pool_reports_what_inline_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pool runs columns longest first (unique, text, numbers); the report keeps contract
    order and the same results, shortcut or not (s1 has a bad value, s2 mixed widths)."""
    n = 3 * ROWS
    levels = ["AB", "CD", "EF"]
    frame = pd.DataFrame(
        {
            "f": np.linspace(-1.0, 2.0, n),
            "s0": pd.Series([levels[i % 3] for i in range(n)], dtype="str"),
            "s1": pd.Series([levels[i % 3] if i != 7 else "ZZ" for i in range(n)], dtype="str"),
            "s2": pd.Series([levels[i % 3] if i % 5 else "A" for i in range(n)], dtype="str"),
            "id": np.arange(n)[::-1].copy(),
        }
    )
    text = Column(dtype="string", nullable=False, allowed=levels)
    columns = {"f": Column(min=0.0, max=1.0), "s0": text, "s1": text, "s2": text}
    spec = Contract(columns=columns | {"id": Column(unique=True)})

    def rules() -> list[tuple[Any, ...]]:
        report = validate(frame, spec)
        return [(r.id, r.status, r.failing_count, r.examples) for r in report.rules]

    monkeypatch.setattr(engine, "PARALLEL_CELLS", 10**12)
    inline = rules()
    monkeypatch.setattr(engine, "PARALLEL_CELLS", 0)
    monkeypatch.setattr(engine, "WORKERS", 2)
    assert rules() == inline
    failed = {rid: count for rid, status, count, _ in inline if status == "failed"}
    outside = int(np.count_nonzero((frame["f"] < 0) | (frame["f"] > 1)))
    assert failed == {"f.range": outside, "s1.allowed": 1, "s2.allowed": len(range(0, n, 5))}
