"""Alert messages describe the window that was judged: its length and its span, and since
when the breach has lasted in windows of that length."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from loopline.monitoring import MonitorConfig, run_monitor
from loopline.monitoring._alerts import _ordered, breach_start, span, window_text
from loopline.store import ModelVersion, WindowResult, open_metadata_store
from tests.monitoring.test_end_to_end import URI, frame, send


def _alert(rule: str = "data_drift") -> str:
    (alert,) = [a for a in open_metadata_store().list_alerts(model="churn") if a.rule == rule]
    return alert.message


def test_a_repeated_alert_under_a_new_window_names_that_window(
    production: ModelVersion, live_server: Callable[..., Any]
) -> None:
    live = live_server()
    send(live, frame(shift=2.0))
    now = time.time()
    run_monitor(URI, config=MonitorConfig(window="1d"), now=now)
    day = time.strftime("%Y-%m-%d", time.gmtime(now))
    assert f"in the 1d window {day} 00:00 to " in _alert(), _alert()

    report = run_monitor(URI, config=MonitorConfig(window="1h"), now=now)
    assert [c.transition for c in report.alerts if c.alert.rule == "data_drift"] == ["repeated"]
    message = _alert()
    hour = time.strftime("%Y-%m-%d %H:00", time.gmtime(now))
    end = time.gmtime(now + 3600)  # a window ending on the next day names that day
    after = time.strftime("%H:00" if end[:3] == time.gmtime(now)[:3] else "%Y-%m-%d %H:00", end)
    assert f"in the 1h window {hour} to {after} UTC" in message, message
    # not the day window's span (its start is this day's 00:00; a 1h window may end at 00:00)
    assert f"{day} 00:00 to" not in message or hour.endswith(" 00:00"), message
    assert not re.search(r"window from", message), message


def _w(start: float, seconds: float, psi: float, computed_at: float = 0.0) -> WindowResult:
    verdict = {"stat": "psi", "value": psi, "status": "critical" if psi > 0.2 else "ok"}
    verdict |= {"warn": 0.1, "alert": 0.2}
    return WindowResult(start, start + seconds, 500, [1], {"features": {"a": verdict}}, computed_at)


def test_the_breach_start_counts_only_windows_of_the_judged_length() -> None:
    day = 1_764_979_200.0  # 2025-12-06 00:00 UTC
    history = [
        _w(day, 86400, 3.0, computed_at=1),  # the old 1d window, also breaching
        _w(day + 0 * 3600, 3600, 0.05, computed_at=2),  # same start, computed later
        _w(day + 1 * 3600, 3600, 3.0, computed_at=2),
        _w(day + 2 * 3600, 3600, 3.0, computed_at=2),
    ]
    start = breach_start(_ordered(history), "features", "a")
    assert start.start == day + 3600  # not the 1d window's 00:00
    text = window_text(_ordered(history)[-1], start)
    assert text == (
        "the 1h window 2025-12-06 02:00 to 03:00 UTC (breaching since 2025-12-06 01:00 UTC)"
    )
    assert window_text(history[0]) == "the 1d window 2025-12-06 00:00 to 2025-12-07 00:00 UTC"
    assert span(900) == "15m" and span(604800) == "1w" and span(5400) == "90m"
