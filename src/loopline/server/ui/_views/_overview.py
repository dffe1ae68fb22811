"""The overview page: every model's production state, SLOs, open alerts and DORA tiles."""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

from loopline.server.ui import _charts as charts
from loopline.server.ui._views._common import (
    _recent_windows,
    _traffic,
    _window_label,
    duration,
    monitor_problem,
    num,
)
from loopline.store import Alert, MetadataStore, Monitor

DORA_TTL_S = 60.0


class DoraCache:
    """The DORA report reads the whole audit trail: keep it until a new audit event is
    written (checked with one indexed query) or `DORA_TTL_S` passes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: tuple[int, float, dict[str, Any]] | None = None

    def get(self, store: MetadataStore) -> dict[str, Any]:
        from loopline.ops.dora import dora_report

        now = time.time()
        with self._lock:
            cached = self._value
        if cached is not None:
            last_id, at, report = cached
            fresh = not store.list_audit_events(after_id=last_id, limit=1)
            if fresh and now - at < DORA_TTL_S:
                return report
        last = _last_event_id(store)  # first: an event written meanwhile makes it stale
        report = dora_report(store, since_s=90 * 86400).as_dict() if last else {}
        with self._lock:
            self._value = (last, now, report)
        return report


def _last_event_id(store: MetadataStore) -> int:
    """The newest audit event's id, in pages (the store lists oldest first)."""
    last, after = 0, 0
    while True:
        page = store.list_audit_events(after_id=after, limit=5000)
        if not page:
            return last
        last = after = page[-1].id
        if len(page) < 5000:
            return last


def _failure_tile(overall: Mapping[str, Any]) -> tuple[str, str]:
    """(value, note): the rate, or the counts and the sample a rate needs (`insufficient`)."""
    why = overall.get("insufficient", {}).get("change_failure_rate")
    if why is not None:
        return f"{overall['failed']} of {overall['deployments']} failed", why
    rate = overall["change_failure_rate"]
    return ("—" if rate is None else f"{rate:.0%}"), "rolled back or alerted"


def _restore_tile(overall: Mapping[str, Any]) -> tuple[str, str]:
    why = overall.get("insufficient", {}).get("time_to_restore_median_h")
    if why is not None:
        return f"{overall['restored']} restored", why
    median = overall["time_to_restore_median_h"]
    if not overall["incidents"]:
        return "—", "no incidents in the window"
    return (
        "—" if median is None else duration(median * 3600),
        f"median; {overall['open_incidents']} open incident(s)",
    )


def dora_tiles(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The four keys. A key the window has too few deployments or restores for shows its
    counts and what a figure needs, and no weekly trend (ops' MIN_DEPLOYMENTS, MIN_RESTORES)."""
    if not report:
        return []
    overall = report["overall"]
    weeks = report.get("weeks", [])
    tiles = [
        (
            "Deployment frequency",
            f"{overall['per_week']:.2f} / week",
            f"{overall['deployments']} deployments",
            "deployments",
        ),
        (
            "Lead time for changes",
            "—"
            if overall["lead_time_median_h"] is None
            else duration(overall["lead_time_median_h"] * 3600),
            "median, commit → production",
            "lead_time_median_h",
        ),
        ("Change failure rate", *_failure_tile(overall), "change_failure_rate"),
        ("Time to restore", *_restore_tile(overall), "time_to_restore_median_h"),
    ]
    out = []
    for title, value, note, field in tiles:
        # A week's rate or median stands only where the window's does, and a week without
        # one is left out of the trend, never drawn as zero.
        trend = field not in overall.get("insufficient", {})
        points = [{"week": w["week"], field: w[field]} for w in weeks if w.get(field) is not None]
        out.append(
            {
                "title": title,
                "value": value,
                "note": note,
                "spark": charts.sparkline(points, field=field, label=f"{title} per week")
                if trend and len(points) > 1
                else None,
                "weeks": [(p["week"], num(p[field])) for p in points],
            }
        )
    return out


def slo_status(store: MetadataStore, monitor: Monitor | None) -> dict[str, Any]:
    """The latest window's SLO verdict for the monitor of a model's production alias."""
    from loopline.monitoring import SLO, window_status

    if monitor is None:
        return {"status": "no monitor", "detail": "no monitor on @production"}
    try:
        windows = _recent_windows(store, monitor, 1)
        if not windows:
            return {"status": "no data", "detail": "no window computed yet"}
        objectives = window_status(windows[-1], SLO.parse(monitor.config.get("slo")))
    except Exception as exc:  # this monitor's config: its row says so, not the page
        return {"status": "error", "detail": monitor_problem(monitor, exc)}
    states = [o["status"] for o in objectives.values()]
    status = "violated" if "violated" in states else "met" if "met" in states else "no data"
    broken = [k for k, o in objectives.items() if o["status"] == "violated"]
    detail = (
        ("violated: " + ", ".join(broken)) if broken else f"window {_window_label(windows[-1])}"
    )
    return {"status": status, "detail": detail}


def overview(store: MetadataStore, dora: DoraCache) -> dict[str, Any]:
    models = store.list_models()
    alerts = store.list_alerts(status="open", limit=1000)
    by_model: dict[str, list[Alert]] = defaultdict(list)
    for a in alerts:
        by_model[a.model].append(a)
    monitors = {m.uri: m for m in store.list_monitors()}
    rows = []
    for m in models:
        production = m.aliases.get("production")
        active = store.active_deployment(m.name)
        moves = store.alias_history(m.name, "production")
        deployments = store.list_deployments(m.name)
        last_move = moves[-1] if moves else None
        last_dep = deployments[-1] if deployments else None
        last: dict[str, Any] | None = None
        if last_dep is not None and (last_move is None or last_dep.updated_at >= last_move.at):
            last = {
                "at": last_dep.updated_at,
                "text": f"{last_dep.strategy} v{last_dep.challenger_version} ({last_dep.status})",
            }
        elif last_move is not None:
            last = {
                "at": last_move.at,
                "text": f"{last_move.action} v{last_move.from_version or '-'} → "
                f"v{last_move.to_version} by {last_move.actor}",
            }
        severities = Counter(a.severity for a in by_model.get(m.name, []))
        rows.append(
            {
                "model": m,
                "production": production,
                "traffic": _traffic(m.name, production, active),
                "deployment": active,
                "slo": slo_status(store, monitors.get(f"models:/{m.name}@production")),
                "alerts": by_model.get(m.name, []),
                "severities": dict(severities),
                "last": last,
            }
        )
    return {"models": rows, "tiles": dora_tiles(dora.get(store)), "open_alerts": alerts[:10]}
