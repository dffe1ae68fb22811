"""One rule for what a (feature, window) cell says and what colour it is, shared by the HTML
report and the web UI.

A cell's status is the worst of the feature's drift verdict (`judge`) and its column signals
(null rate, all null, constant, vanished): `critical` > `warning` > `ok`; with nothing judged
(too few rows, no statistic) it is `no data`. Its colour is a function of that status only —
never of the raw drift value — so a PSI of 0.28 on a small window that `judge` calls `ok`
(not significant) is green everywhere, and an all-null column (no drift statistic at all) is
red everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

STATUSES = ("ok", "warning", "critical", "no data")
STATUS_COLOURS: dict[str, str] = {
    "ok": "#e8f1e4",
    "warning": "#f2a93b",
    "critical": "#d62728",
    "no data": "#eeeeee",
}
_RANK = {"ok": 1, "warning": 2, "critical": 3}


def worst_status(statuses: Any) -> str:
    """The worst of some verdict statuses ('insufficient' and unknown ones count as no data)."""
    best = max((_RANK.get(str(s), 0) for s in statuses), default=0)
    return next((s for s, r in _RANK.items() if r == best), "no data")


def cell_status(
    verdict: Mapping[str, Any] | None, signals: Mapping[str, Mapping[str, Any]] | None = None
) -> str:
    """The status of one feature in one window: its drift verdict and column signals."""
    found = [(verdict or {}).get("status")]
    found += [s.get("status") for s in (signals or {}).values() if isinstance(s, Mapping)]
    return worst_status(found)


def status_colour(status: str) -> str:
    """The fill colour of a cell with this status (grey for anything unknown)."""
    return STATUS_COLOURS.get(status, STATUS_COLOURS["no data"])


__all__ = ["STATUSES", "STATUS_COLOURS", "cell_status", "status_colour", "worst_status"]
