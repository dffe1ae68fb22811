"""Cron expressions: parse, match a minute, find the next firing. Pure functions.

Five fields — minute hour day-of-month month day-of-week — each `*`, a number, a range
`a-b`, a step `*/n`, `a-b/n` or `a/n`, or a comma list of those; month and weekday names
(jan…dec, sun…sat) and the macros @hourly, @daily (@midnight), @weekly, @monthly, @yearly
(@annually). Weekday 0 and 7 are Sunday. As in Vixie cron, when both day-of-month and
day-of-week are restricted, a day matches if either does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from loopline.errors import InvalidInputError

_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
# (name, low, high, names for low..)
_FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, tuple(_MONTHS)),
    ("day of week", 0, 7, tuple(_DAYS)),
)
_HINT = "use five fields 'minute hour day month weekday', e.g. '0 3 * * *' (03:00 daily)"
_HORIZON_DAYS = 366 * 8  # Feb 29 on a given weekday can be 28 years away; 8 cover leap cycles


@dataclass(frozen=True)
class Cron:
    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool  # day-of-month field was '*'
    any_weekday: bool  # day-of-week field was '*'

    def day_matches(self, when: datetime) -> bool:
        dom = when.day in self.days
        dow = (when.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return dom and dow
        return dom or dow

    def matches(self, when: datetime) -> bool:
        return (
            when.minute in self.minutes
            and when.hour in self.hours
            and when.month in self.months
            and self.day_matches(when)
        )


def _number(token: str, field: tuple[str, int, int, tuple[str, ...]], expr: str) -> int:
    name, low, high, names = field
    lowered = token.lower()
    if lowered in names:
        return names.index(lowered) + low
    if not token.isdigit():
        raise InvalidInputError(f"cron {expr!r}: {name} {token!r} is not a number", hint=_HINT)
    value = int(token)
    if not low <= value <= high:
        raise InvalidInputError(
            f"cron {expr!r}: {name} {value} is outside {low}-{high}", hint=_HINT
        )
    return value


def _field(text: str, field: tuple[str, int, int, tuple[str, ...]], expr: str) -> set[int]:
    name, low, high, _ = field
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise InvalidInputError(
                    f"cron {expr!r}: {name} step {step_text!r} must be a positive number",
                    hint=_HINT,
                )
            step = int(step_text)
        if base == "*":
            start, stop = low, high
        elif "-" in base:
            a, _, b = base.partition("-")
            start, stop = _number(a, field, expr), _number(b, field, expr)
            if start > stop:
                raise InvalidInputError(
                    f"cron {expr!r}: {name} range {base} runs backwards", hint=_HINT
                )
        elif base:
            start = _number(base, field, expr)
            stop = high if step_text else start  # 'a/n' means from a to the end, every n
        else:
            raise InvalidInputError(f"cron {expr!r}: empty {name}", hint=_HINT)
        values.update(range(start, stop + 1, step))
    return values


def parse_cron(expr: str) -> Cron:
    """A `Cron` from its text; an InvalidInputError names the bad field."""
    text = expr.strip()
    fields = _MACROS.get(text.lower(), text).split()
    if len(fields) != 5:
        raise InvalidInputError(f"cron {expr!r} has {len(fields)} field(s), not 5", hint=_HINT)
    sets = [_field(f, spec, expr) for f, spec in zip(fields, _FIELDS, strict=True)]
    weekdays = frozenset(d % 7 for d in sets[4])
    return Cron(
        text,
        frozenset(sets[0]),
        frozenset(sets[1]),
        frozenset(sets[2]),
        frozenset(sets[3]),
        weekdays,
        fields[2] == "*",
        fields[4] == "*",
    )


def _cron(expr: str | Cron) -> Cron:
    return expr if isinstance(expr, Cron) else parse_cron(expr)


def cron_matches(expr: str | Cron, when: datetime) -> bool:
    """Whether the schedule fires in the minute of `when`."""
    return _cron(expr).matches(when)


def next_fire(expr: str | Cron, after: datetime) -> datetime | None:
    """The first minute strictly after `after` when the schedule fires (same tzinfo), or
    None for a schedule that never fires (such as 30 February)."""
    cron = _cron(expr)
    t = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    end = t + timedelta(days=_HORIZON_DAYS)
    while t < end:
        # Skip whole months, days and hours that cannot match before trying minutes.
        if t.month not in cron.months:
            t = (t.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
        elif not cron.day_matches(t):
            t = t.replace(hour=0, minute=0) + timedelta(days=1)
        elif t.hour not in cron.hours:
            t = t.replace(minute=0) + timedelta(hours=1)
        elif t.minute not in cron.minutes:
            t += timedelta(minutes=1)
        else:
            return t
    return None


def describe_cron(expr: str | Cron) -> str:
    """A short label for diagrams: 'nightly 03:00', 'weekly Mon 06:00', 'hourly at :15'."""
    cron = _cron(expr)
    one_time = len(cron.minutes) == 1 and len(cron.hours) == 1
    hhmm = f"{min(cron.hours):02d}:{min(cron.minutes):02d}" if one_time else ""
    every_month = len(cron.months) == 12
    if one_time and cron.any_day and cron.any_weekday and every_month:
        return f"nightly {hhmm}" if min(cron.hours) < 6 else f"daily {hhmm}"
    if one_time and cron.any_day and not cron.any_weekday and every_month:
        days = ",".join(_DAYS[d].capitalize() for d in sorted(cron.weekdays))
        return f"weekly {days} {hhmm}"
    if one_time and not cron.any_day and cron.any_weekday and every_month:
        return f"monthly day {','.join(map(str, sorted(cron.days)))} {hhmm}"
    if len(cron.minutes) == 1 and len(cron.hours) == 24 and cron.any_day and cron.any_weekday:
        return f"hourly at :{min(cron.minutes):02d}"
    return f"cron {cron.text}"


__all__ = ["Cron", "cron_matches", "describe_cron", "next_fire", "parse_cron"]
