"""The cron matcher against a brute-force reading of the same expression."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loopline.errors import InvalidInputError
from loopline.pipelines import cron_matches, describe_cron, next_fire, parse_cron


def field(low: int, high: int) -> st.SearchStrategy[str]:
    """A cron field over low..high, and (as text) every form the syntax allows."""
    number = st.integers(low, high)
    ranged = st.tuples(number, number).map(lambda ab: f"{min(ab)}-{max(ab)}")
    step = st.integers(1, high - low + 1)
    stepped = st.one_of(
        step.map(lambda s: f"*/{s}"),
        st.tuples(ranged, step).map(lambda rs: f"{rs[0]}/{rs[1]}"),
        st.tuples(number, step).map(lambda ns: f"{ns[0]}/{ns[1]}"),
    )
    item = st.one_of(number.map(str), ranged, stepped)
    return st.one_of(st.just("*"), st.lists(item, min_size=1, max_size=3).map(",".join))


def values(text: str, low: int, high: int) -> set[int]:
    """The set a field means, computed independently of the parser's code."""
    out: set[int] = set()
    for part in text.split(","):
        base, _, step = part.partition("/")
        every = int(step) if step else 1
        if base == "*":
            lo, hi = low, high
        elif "-" in base:
            lo, hi = (int(x) for x in base.split("-"))
        else:
            lo = int(base)
            hi = high if step else lo
        out |= {v for v in range(lo, hi + 1) if (v - lo) % every == 0}
    return out


def brute_matches(expr: str, t: datetime) -> bool:
    m, h, dom, mon, dow = expr.split()
    day = t.day in values(dom, 1, 31)
    weekday = (t.isoweekday() % 7) in {d % 7 for d in values(dow, 0, 7)}
    days = day or weekday if dom != "*" and dow != "*" else day and weekday
    return (
        t.minute in values(m, 0, 59)
        and t.hour in values(h, 0, 23)
        and t.month in values(mon, 1, 12)
        and days
    )


moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC)
)
exprs = st.tuples(field(0, 59), field(0, 23), field(1, 31), field(1, 12), field(0, 7)).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(exprs, moments)
def test_matches_agrees_with_a_brute_force_reading(expr: str, t: datetime) -> None:
    assert cron_matches(expr, t) == brute_matches(expr, t)


@settings(max_examples=60, deadline=None)
@given(st.tuples(field(0, 59), field(0, 23)).map(lambda mh: f"{mh[0]} {mh[1]} * * *"), moments)
def test_next_fire_is_the_first_matching_minute_after(expr: str, t: datetime) -> None:
    fire = next_fire(expr, t)
    assert fire is not None and fire > t and cron_matches(expr, fire)
    probe = t.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while probe < fire:  # a daily schedule fires within 24 hours: scanning is affordable
        assert not cron_matches(expr, probe)
        probe += timedelta(minutes=1)


@settings(max_examples=100, deadline=None)
@given(exprs, moments)
def test_next_fire_always_lands_on_a_match(expr: str, t: datetime) -> None:
    fire = next_fire(expr, t)
    assert fire is None or (fire > t and cron_matches(expr, fire))


def test_macros_names_and_the_day_rule() -> None:
    monday_six = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
    assert cron_matches("0 6 * * mon", monday_six) and cron_matches("0 6 * JAN 1", monday_six)
    assert parse_cron("@daily").minutes == parse_cron("0 0 * * *").minutes
    assert cron_matches("0 0 * * 7", datetime(2026, 1, 4, tzinfo=UTC))  # 7 is Sunday too
    # day-of-month OR day-of-week when both are restricted (Vixie cron)
    assert cron_matches("0 0 13 * 5", datetime(2026, 1, 2, tzinfo=UTC))  # a Friday, not the 13th
    assert next_fire("0 0 30 2 *", monday_six) is None  # February 30 never comes
    assert next_fire("0 0 29 2 *", monday_six) == datetime(2028, 2, 29, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("0 3 * *", "has 4 field(s), not 5"),
        ("61 * * * *", "minute 61 is outside 0-59"),
        ("*/0 * * * *", "step '0' must be a positive number"),
        ("5-1 * * * *", "range 5-1 runs backwards"),
        ("0 0 * * funday", "day of week 'funday' is not a number"),
    ],
)
def test_bad_expressions_say_which_field(expr: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        parse_cron(expr)


def test_labels_for_diagrams() -> None:
    assert describe_cron("0 3 * * *") == "nightly 03:00"
    assert describe_cron("30 9 * * *") == "daily 09:30"
    assert describe_cron("0 6 * * 1") == "weekly Mon 06:00"
    assert describe_cron("15 * * * *") == "hourly at :15"
    assert describe_cron("0 0 1 * *") == "monthly day 1 00:00"
    assert describe_cron("*/5 * * * *") == "cron */5 * * * *"
