"""Cron expressions: parse, match a minute, find the next firing — a thin layer over cronsim.

cronsim (the parser healthchecks.io runs) does the parsing and the calendar arithmetic,
including daylight-saving changes. This module adds what Loopline promises on top: exactly
five fields (the scheduler works in minutes), the macros @hourly, @daily (@midnight),
@weekly, @monthly, @yearly (@annually), one-line errors that name the field and its fix, and
short labels for diagrams.

Syntax: `*`, numbers, ranges `a-b`, steps `*/n`, `a-b/n`, `a/n`, comma lists, names
jan…dec and sun…sat; weekday 0 and 7 are Sunday; cronsim's `L`, `LW` and `5#2` also work.
As in Vixie and Debian cron, a day field counts as unrestricted when it starts with `*`; when
neither is, a day matches if either field does. In a zone with daylight saving, a job at a
fixed time that falls in the skipped hour runs when the clocks resume, and once (not twice)
in the repeated hour — the Debian cron rule cronsim implements.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import NoReturn

from cronsim import CronSim, CronSimError

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
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
# (name, low, high, names for low..) per field, in order
_FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, tuple(_MONTHS)),
    ("day of week", 0, 7, tuple(_DAYS)),
)
_HINT = "use five fields 'minute hour day month weekday', e.g. '0 3 * * *' (03:00 daily)"
_ONE_MINUTE = timedelta(minutes=1)


def _ints(values: Iterable[object], fold: int = 0) -> frozenset[int]:
    # cronsim keeps L / LW / n#k as sentinels and tuples beside the plain numbers
    return frozenset(v % fold if fold else v for v in values if isinstance(v, int) and v >= 0)


@dataclass(frozen=True)
class Cron:
    """A parsed schedule. The sets hold the plain numbers each field names (for labels);
    matching goes through cronsim so that L, n#k and daylight saving behave as in cron."""

    text: str  # as written; a macro stays a macro
    fields: str  # the five fields cronsim reads
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday (7 folded into 0)
    any_day: bool  # day-of-month starts with '*'
    any_weekday: bool  # day-of-week starts with '*'
    # Read only for its parsed fields and match_day(); its iteration state is never used.
    _sim: CronSim = field(repr=False, compare=False)

    @property
    def plain(self) -> bool:
        """No L / LW / n#k: the sets say everything about the days."""
        return len(self._sim.days) == len(self.days) and all(
            isinstance(w, int) for w in self._sim.weekdays
        )

    def day_matches(self, when: datetime) -> bool:
        return self._sim.match_day(when.date())

    def matches(self, when: datetime) -> bool:
        """Whether the schedule fires in the minute of `when` (read in when's own zone)."""
        if when.tzinfo is None or isinstance(when.tzinfo, timezone):
            # No daylight saving: wall-clock fields decide, as fast set lookups.
            return (
                when.minute in self.minutes
                and when.hour in self.hours
                and when.month in self.months
                and self.day_matches(when)
            )
        # With daylight saving, a minute fires iff cronsim's next firing after the minute
        # before is this one; compared in UTC because aware comparison in one zone ignores fold.
        minute = when.replace(second=0, microsecond=0).astimezone(UTC)
        start = (minute - _ONE_MINUTE).astimezone(when.tzinfo)
        fire = next(CronSim(self.fields, start), None)
        return fire is not None and fire.astimezone(UTC) == minute


def _number(token: str, spec: tuple[str, int, int, tuple[str, ...]], expr: str) -> int:
    name, low, high, names = spec
    if token.lower() in names:
        return names.index(token.lower()) + low
    if not token.isdigit():
        raise InvalidInputError(f"cron {expr!r}: {name} {token!r} is not a number", hint=_HINT)
    if not low <= int(token) <= high:
        raise InvalidInputError(
            f"cron {expr!r}: {name} {int(token)} is outside {low}-{high}", hint=_HINT
        )
    return int(token)


def _parses(expr: str) -> bool:
    try:
        CronSim(expr, datetime(2000, 1, 1))
    except CronSimError:
        return False
    return True


def _explain(fields: list[str], index: int, expr: str) -> NoReturn:
    """Why cronsim refused field `index`: find the part it refuses, say what is wrong with it."""
    spec = _FIELDS[index]
    name = spec[0]
    for part in fields[index].split(","):
        alone = ["*"] * 5
        alone[index] = part
        if _parses(" ".join(alone)):
            continue
        base, slash, step = part.partition("/")
        if slash and not (step.isdigit() and int(step) > 0):
            message = f"{name} step {step!r} must be a positive number"
            raise InvalidInputError(f"cron {expr!r}: {message}", hint=_HINT)
        ends = [] if base == "*" else [_number(t, spec, expr) for t in base.split("-", 1)]
        if len(ends) == 2 and ends[0] > ends[1]:
            message = f"{name} range {base} runs backwards"
            raise InvalidInputError(f"cron {expr!r}: {message}", hint=_HINT)
        raise InvalidInputError(f"cron {expr!r}: {name} {part!r} is not valid", hint=_HINT)
    if index == 2:  # every part is fine alone: the days do not exist in the months named
        raise InvalidInputError(
            f"cron {expr!r} never fires: no month it names has day {fields[2]}",
            hint="pick a day every named month has, or 'L' for the last day of the month",
        )
    raise InvalidInputError(f"cron {expr!r}: {name} {fields[index]!r} is not valid", hint=_HINT)


def parse_cron(expr: str) -> Cron:
    """A `Cron` from its text; an InvalidInputError names the bad field."""
    text = expr.strip()
    fields = _MACROS.get(text.lower(), text).split()
    if len(fields) != 5:  # cronsim also takes a sixth (seconds) field; Loopline ticks minutes
        raise InvalidInputError(f"cron {expr!r} has {len(fields)} field(s), not 5", hint=_HINT)
    try:
        sim = CronSim(" ".join(fields), datetime(2000, 1, 1))
    except CronSimError as exc:
        problem = str(exc)
    else:
        return Cron(
            text,
            " ".join(fields),
            _ints(sim.minutes),
            _ints(sim.hours),
            _ints(sim.days),
            _ints(sim.months),
            _ints(sim.weekdays, fold=7),
            fields[2].startswith("*"),
            fields[4].startswith("*"),
            sim,
        )
    # cronsim's messages read "Bad minute", "Bad day-of-month", …: find the field, explain it
    named = [f"Bad {name.replace(' of ', '-of-')}" for name, *_ in _FIELDS]
    if problem in named:
        _explain(fields, named.index(problem), expr)
    raise InvalidInputError(f"cron {expr!r}: {problem}", hint=_HINT)


def _cron(expr: str | Cron) -> Cron:
    return expr if isinstance(expr, Cron) else parse_cron(expr)


def cron_matches(expr: str | Cron, when: datetime) -> bool:
    """Whether the schedule fires in the minute of `when`."""
    return _cron(expr).matches(when)


def next_fire(expr: str | Cron, after: datetime) -> datetime | None:
    """The first minute strictly after `after` when the schedule fires (same tzinfo), or
    None if cronsim finds none within 50 years."""
    return next(CronSim(_cron(expr).fields, after), None)


def describe_cron(expr: str | Cron) -> str:
    """A short label for diagrams: 'nightly 03:00', 'weekly Mon 06:00', 'hourly at :15'."""
    cron = _cron(expr)
    one_time = len(cron.minutes) == 1 and len(cron.hours) == 1
    hhmm = f"{min(cron.hours):02d}:{min(cron.minutes):02d}" if one_time else ""
    every_month = len(cron.months) == 12
    all_days, all_weekdays = len(cron.days) == 31, len(cron.weekdays) == 7
    if not (every_month and cron.plain):
        return f"cron {cron.text}"
    if one_time and all_days and all_weekdays:
        return f"nightly {hhmm}" if min(cron.hours) < 6 else f"daily {hhmm}"
    if one_time and cron.any_day and all_days:
        days = ",".join(_DAYS[d].capitalize() for d in sorted(cron.weekdays))
        return f"weekly {days} {hhmm}"
    if one_time and cron.any_weekday and all_weekdays:
        return f"monthly day {','.join(map(str, sorted(cron.days)))} {hhmm}"
    if len(cron.minutes) == 1 and len(cron.hours) == 24 and all_days and all_weekdays:
        return f"hourly at :{min(cron.minutes):02d}"
    return f"cron {cron.text}"


__all__ = ["Cron", "cron_matches", "describe_cron", "next_fire", "parse_cron"]
