"""Cron schedules for recurring monitors (`loopline monitors schedule URI --cron ...`).

The same parser and semantics as pipeline schedules (`loopline._cron`, on cronsim), in UTC:
five fields with `*`, lists, ranges, steps, names, `L` and `#`. The server's scheduler runs
every monitor that `due_monitors` names.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from loopline._cron import next_fire, parse_cron
from loopline.errors import InvalidInputError
from loopline.store import Monitor


def next_run(expr: str, after: float) -> float:
    """The first minute strictly after `after` (epoch seconds, UTC) that `expr` matches."""
    fire = next_fire(parse_cron(expr), datetime.fromtimestamp(after, UTC))
    if fire is None:
        raise InvalidInputError(f"cron expression {expr!r} never matches", hint="check the days")
    return fire.timestamp()


def due_monitors(monitors: Sequence[Monitor], now: float) -> list[Monitor]:
    """Scheduled monitors whose next run (after their last run, or creation) has come."""
    return [
        m
        for m in monitors
        if m.schedule and next_run(m.schedule, m.last_run_at or m.created_at) <= now
    ]


__all__ = ["due_monitors", "next_run", "parse_cron"]
