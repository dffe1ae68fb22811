"""Cron schedules for recurring monitors (`loopline monitor schedule URI --cron ...`).

Standard five fields (minute hour day-of-month month day-of-week, UTC) with `*`, lists,
ranges and steps (`*/15`, `1-5`, `0,30`). As in cron, when both day fields are restricted a
day matches either. The server's scheduler runs every monitor that `due_monitors` names.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Sequence

from loopline.errors import InvalidInputError
from loopline.store._monitoring_base import MonitorRecord

_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_NAMES = ("minute", "hour", "day of month", "month", "day of week")


def _field(text: str, lo: int, hi: int, name: str) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        rng, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() else 1 if not step_text else 0
        if rng == "*":
            a, b = lo, hi
        elif "-" in rng:
            left, _, right = rng.partition("-")
            a, b = (int(left), int(right)) if left.isdigit() and right.isdigit() else (-1, -1)
        else:
            a = b = int(rng) if rng.isdigit() else -1
        if name == "day of week" and b == 7:
            b = 6 if a <= 6 else 0
            values.add(0)  # 7 is Sunday too
        if step < 1 or not lo <= a <= b <= hi:
            raise InvalidInputError(
                f"cron {name} field {text!r} is not valid",
                hint=f"use *, a number {lo}-{hi}, a range a-b, a list a,b or a step */n",
            )
        values.update(range(a, b + 1, step))
    return frozenset(values)


def parse_cron(expr: str) -> tuple[frozenset[int], ...]:
    fields = expr.split()
    if len(fields) != 5:
        raise InvalidInputError(
            f"cron expression {expr!r} needs 5 fields",
            hint="minute hour day-of-month month day-of-week, e.g. '0 * * * *' (hourly)",
        )
    return tuple(
        _field(f, lo, hi, n) for f, (lo, hi), n in zip(fields, _BOUNDS, _NAMES, strict=True)
    )


def next_run(expr: str, after: float) -> float:
    """The first minute strictly after `after` (epoch seconds, UTC) that `expr` matches."""
    minute, hour, dom, month, dow = parse_cron(expr)
    dom_any, dow_any = len(dom) == 31, len(dow) == 7
    t = time.gmtime(int(after // 60 + 1) * 60)
    year, mon, day, hh, mm = t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min
    for _ in range(366 * 5):  # every valid expression matches within five years
        weekday = (calendar.weekday(year, mon, day) + 1) % 7  # cron: 0 = Sunday
        day_ok = (
            (day in dom and weekday in dow)
            if dom_any or dow_any
            else (day in dom or weekday in dow)
        )
        if mon in month and day_ok:
            for h in sorted(x for x in hour if x >= hh):
                for m in sorted(x for x in minute if h > hh or x >= mm):
                    return float(calendar.timegm((year, mon, day, h, m, 0)))
        hh = mm = 0
        day += 1
        if day > calendar.monthrange(year, mon)[1]:
            day, mon = 1, mon + 1
            if mon > 12:
                mon, year = 1, year + 1
    raise InvalidInputError(f"cron expression {expr!r} never matches", hint="check the days")


def due_monitors(monitors: Sequence[MonitorRecord], now: float) -> list[MonitorRecord]:
    """Scheduled monitors whose next run (after their last run, or creation) has come."""
    return [
        m
        for m in monitors
        if m.schedule and next_run(m.schedule, m.last_run_at or m.created_at) <= now
    ]


__all__ = ["due_monitors", "next_run", "parse_cron"]
