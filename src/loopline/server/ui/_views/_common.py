"""Formatting filters and the helpers more than one page uses."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from loopline.store import Deployment, MetadataStore, MonitorRecord, WindowResult

MAX_POINTS = 400  # per metric series in a chart: longer histories are thinned evenly


# --- formatting -----------------------------------------------------------------------------


def when(ts: float | None) -> str:
    return "" if ts is None else time.strftime("%Y-%m-%d %H:%M", time.gmtime(ts))


def num(v: Any, digits: int = 4) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:.{digits}g}"
    return str(v)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _window_label(w: WindowResult) -> str:
    fmt = "%m-%d" if w.end - w.start >= 86_400 else "%m-%d %H:%M"
    return time.strftime(fmt, time.gmtime(w.start))


def _thin(points: Sequence[Any], limit: int = MAX_POINTS) -> list[Any]:
    if len(points) <= limit:
        return list(points)
    stride = len(points) / limit
    picked = [points[int(i * stride)] for i in range(limit)]
    return [*picked[:-1], points[-1]]


# --- traffic and monitor windows (overview, deployment, monitoring) --------------------------


def _traffic(model: str, production: int | None, dep: Deployment | None) -> list[dict[str, Any]]:
    if dep is None:
        return (
            [{"version": production, "percent": 100.0, "role": "production"}] if production else []
        )
    pct = float(dep.challenger_percent)
    if dep.strategy == "shadow":
        return [
            {"version": dep.champion_version, "percent": 100.0, "role": "champion"},
            {"version": dep.challenger_version, "percent": 0.0, "role": "shadow (copy)"},
        ]
    return [
        {"version": dep.champion_version, "percent": 100.0 - pct, "role": "champion"},
        {"version": dep.challenger_version, "percent": pct, "role": "challenger"},
    ]


def _recent_windows(store: MetadataStore, monitor: MonitorRecord, count: int) -> list[WindowResult]:
    from loopline.monitoring import window_seconds

    span = window_seconds(monitor.window)
    anchor = monitor.last_run_at or time.time()
    windows = store.list_windows(monitor.id, since=anchor - (count + 1) * span)
    return windows[-count:]
