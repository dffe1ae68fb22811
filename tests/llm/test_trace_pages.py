"""Traces a page at a time: newest first, day folders read newest first, reading stops with
the day that fills the page (the web UI's /traces read every file of the last 7 days on
each request). Paged by a (ts, request id) cursor: no trace skipped or repeated."""

from __future__ import annotations

import calendar
import time
from pathlib import Path
from typing import Any

import pytest

from loopline.llm import Trace, TraceLog
from loopline.server.ui._views import traces_page

PER_DAY = 60
DAYS = 7


def _noon(days_ago: int) -> float:
    today = time.strftime("%Y-%m-%d", time.gmtime())
    midnight = calendar.timegm(time.strptime(today, "%Y-%m-%d"))
    return midnight - days_ago * 86_400 + 12 * 3600.0


@pytest.fixture
def log(tmp_path: Path) -> TraceLog:
    """Seven trace files, one per day (1 to 7 days ago), PER_DAY traces each; every fifth
    an error."""
    log = TraceLog(tmp_path / "llm")
    for day in range(1, DAYS + 1):
        for i in range(PER_DAY):
            status = "error" if i % 5 == 0 else "ok"
            log.record(
                Trace("support", 1, "toy-1", ts=_noon(day) + i, status=status,
                      request_id=f"d{day}-{i:02d}")
            )  # fmt: skip
    assert len(list((tmp_path / "llm" / "traces").glob("*/*/*.jsonl"))) == DAYS
    return log


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every trace file read from now on (feedback files aside)."""
    seen: list[Path] = []
    read_text = Path.read_text

    def spy(self: Path, *args: Any, **kwargs: Any) -> str:
        if "traces" in self.parts:
            seen.append(self)
        return read_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", spy)
    return seen


def test_a_page_filled_by_the_newest_file_opens_only_that_file(
    log: TraceLog, opened: list[Path]
) -> None:
    page = log.newest(51)
    assert len(opened) == 1 and opened[0].parent.name == time.strftime(
        "%Y-%m-%d", time.gmtime(_noon(1))
    )
    assert [t["request_id"] for t in page[:3]] == ["d1-59", "d1-58", "d1-57"]
    assert [t["ts"] for t in page] == sorted((t["ts"] for t in page), reverse=True)


def test_the_next_page_continues_below_the_cursor_into_the_day_before(
    log: TraceLog, opened: list[Path]
) -> None:
    first = log.newest(50)
    cursor = (first[-1]["ts"], first[-1]["request_id"])
    second = log.newest(50, before=cursor)
    assert [t["request_id"] for t in second[:10]] == [f"d1-{i:02d}" for i in range(9, -1, -1)]
    assert second[10]["request_id"] == "d2-59"
    assert len(opened) == 1 + 2  # the newest day again, then the day before: not all seven


def test_paging_through_everything_skips_and_repeats_nothing(log: TraceLog) -> None:
    seen: list[str] = []
    cursor = None
    while page := log.newest(50, before=cursor):
        seen += [t["request_id"] for t in page]
        cursor = (page[-1]["ts"], page[-1]["request_id"])
    assert len(seen) == len(set(seen)) == DAYS * PER_DAY


def test_filters_and_feedback_apply_to_the_page(log: TraceLog, opened: list[Path]) -> None:
    log.feedback("d1-55", thumbs="down", comment="wrong")
    errors = log.newest(12, status="error")
    assert [t["request_id"] for t in errors] == [f"d1-{i:02d}" for i in range(55, -1, -5)]
    assert errors[0]["feedback"]["thumbs"] == "down" and errors[1]["feedback"] is None
    assert log.newest(5, prompt="other") == [] and log.newest(5, prompt="../..") == []
    assert log.prompts() == ["support"]


def test_the_traces_page_reads_one_file_and_links_the_older_page(
    log: TraceLog, opened: list[Path]
) -> None:
    ctx = traces_page(log.folder, None, None, None)
    assert len(ctx["traces"]) == 50 and len(opened) == 1
    assert ctx["summary"]["requests"] == 50 and ctx["prompts"] == ["support"]
    last = ctx["traces"][-1]
    assert ctx["older"] == f"{last['ts']!r}_{last['request_id']}"
    older = traces_page(log.folder, None, None, ctx["older"])
    assert older["traces"][0]["request_id"] == "d1-09" and older["before"] is True
    assert traces_page(log.folder, None, None, "not-a-cursor")["traces"][0]["request_id"] == (
        "d1-59"
    )


def test_a_cursor_outside_the_calendar_is_the_newest_page_not_a_server_error(
    log: TraceLog,
) -> None:
    """`/traces?before=1e300_x`: a finite float that no clock can turn into a day (gmtime
    overflows) is read as no cursor, like any other malformed one."""
    newest = traces_page(log.folder, None, None, None)["traces"][0]["request_id"]
    for raw in ("1e300_x", "-1e300_x", "-5_x"):
        assert traces_page(log.folder, None, None, raw)["traces"][0]["request_id"] == newest
