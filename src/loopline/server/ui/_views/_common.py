"""Formatting filters and the helpers more than one page uses."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup

from loopline.errors import InvalidInputError, LooplineError
from loopline.store import Deployment, MetadataStore, Monitor, WindowResult

log = logging.getLogger("loopline.server.ui")
MAX_LOOKBACK = 365  # windows on one monitor's page

MAX_POINTS = 400  # per metric series in a chart: longer histories are thinned evenly


# --- formatting -----------------------------------------------------------------------------


def utc(ts: float | None) -> str:
    """A moment as people read it: "2026-12-06 21:04 UTC" (plain text, for attributes)."""
    return "" if ts is None else time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ts))


def iso(ts: float | None) -> str:
    return "" if ts is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def ago(ts: float | None, now: float | None = None) -> str:
    """How long ago (or ahead) `ts` is, in the largest unit that fits: "3 h ago", "in 2 d"."""
    if ts is None:
        return ""
    delta = (time.time() if now is None else now) - ts
    span = abs(delta)
    if span < 45:
        return "just now"
    for limit, unit, size in (
        (3_600, "min", 60),
        (86_400, "h", 3_600),
        (86_400 * 60, "d", 86_400),
        (86_400 * 730, "mo", 86_400 * 30.44),
        (float("inf"), "y", 86_400 * 365.25),
    ):
        if span < limit:
            amount = f"{max(1, round(span / size))} {unit}"
            return f"{amount} ago" if delta >= 0 else f"in {amount}"
    return ""  # pragma: no cover (the last limit is infinite)


def when(ts: float | None) -> Markup:
    """A moment on a page: the UTC time, then how long ago; the machine-readable time and
    the seconds in the `<time>` element (every page shows times this one way)."""
    if ts is None:
        return Markup("")
    exact = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts))
    return Markup('<time datetime="{}" title="{}">{}</time> <span class="ago">{}</span>').format(
        iso(ts), exact, utc(ts), ago(ts)
    )


HEX = frozenset("0123456789abcdef")
DIGEST_SHOWN = 10  # characters of a fingerprint or sha256 a table shows


def is_digest(value: object) -> bool:
    """A fingerprint, sha256 or commit: 16 or more hex digits, meaningless past the first few."""
    return isinstance(value, str) and len(value) >= 16 and set(value.lower()) <= HEX


def clip(value: Any, limit: int = 24) -> Markup:
    """A table cell's text, at most `limit` characters (a digest: its first 10); a shortened
    value keeps the whole of it in the title attribute (the tooltip)."""
    text = "" if value is None else str(value)
    shown = DIGEST_SHOWN if is_digest(text) else limit
    if len(text) <= shown:
        return Markup("{}").format(text)
    return Markup('<span class="clipped" title="{}">{}…</span>').format(text, text[:shown])


def num(v: Any, digits: int = 4) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        # Never scientific notation for what a person reads as a count or milliseconds.
        return f"{v:,.0f}" if abs(v) >= 10**digits else f"{v:.{digits}g}"
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


def _recent_windows(store: MetadataStore, monitor: Monitor, count: int) -> list[WindowResult]:
    """The monitor's last `count` windows; a config the library refuses (a bad `window`)
    raises its InvalidInputError, which each page catches for that monitor alone
    (`monitor_problem`)."""
    from loopline.monitoring import window_seconds

    count = max(1, min(count, MAX_LOOKBACK))
    span = window_seconds(monitor.window)
    anchor = monitor.last_run_at or time.time()
    windows = store.list_windows(monitor.id, since=anchor - (count + 1) * span)
    return windows[-count:]


def lookback(monitor: Monitor) -> int:
    """How many windows the monitor's page shows (`lookback` in its config, default 30)."""
    raw = monitor.config.get("lookback", 30) if isinstance(monitor.config, dict) else 30
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise InvalidInputError(f"lookback {raw!r} is not a number", hint="e.g. lookback: 30")
    try:
        n = int(float(raw)) if raw not in ("", 0) else 30
    except (ValueError, OverflowError):
        raise InvalidInputError(
            f"lookback {str(raw)[:40]!r} is not a number", hint="e.g. lookback: 30"
        ) from None
    return max(1, min(n, MAX_LOOKBACK))


def monitor_problem(monitor: Monitor, exc: Exception) -> str:
    """One line for a monitor whose stored config cannot be used: shown on that monitor's
    card, never as the status of a page listing every monitor."""
    if isinstance(exc, LooplineError):
        return f"monitor config: {exc.one_line()}"[:500]
    log.warning("monitor #%s (%s) could not be shown: %r", monitor.id, monitor.uri, exc)
    return f"monitor config cannot be used ({type(exc).__name__}); see the server log"
