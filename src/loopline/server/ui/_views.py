"""What each page shows: plain functions from the metadata store to a template context.

No rule lives here that the library does not already hold: the pages read through the
(governed) store and call the library for every change. Every query is bounded — a page,
a window of time or a fixed number of rows — so a page costs the same with 10 runs or
10,000 (benchmarks/ui/pages.py).
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from loopline.errors import InvalidInputError, LooplineError, NotFoundError
from loopline.server.ui import _charts as charts
from loopline.server.ui._graph import GEdge, GNode, layered, layers_by_longest_path
from loopline.store import (
    RUN_STATUSES,
    AlertRecord,
    Deployment,
    MetadataStore,
    ModelVersion,
    MonitorRecord,
    Run,
    WindowResult,
)

RUNS_PER_PAGE = 50
VERSIONS_PER_PAGE = 20
AUDIT_PER_PAGE = 50
TIMELINE_ROWS = 40
MAX_COMPARE = 10
MAX_POINTS = 400  # per metric series in a chart: longer histories are thinned evenly
DORA_TTL_S = 60.0
PROTECTED_FIRST = ("production", "staging", "champion", "challenger")


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


# --- overview ---------------------------------------------------------------------------------


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


def dora_tiles(report: Mapping[str, Any]) -> list[dict[str, Any]]:
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
        (
            "Change failure rate",
            "—"
            if overall["change_failure_rate"] is None
            else f"{overall['change_failure_rate']:.0%}",
            "rolled back or alerted",
            "change_failure_rate",
        ),
        (
            "Time to restore",
            "—"
            if overall["time_to_restore_median_h"] is None
            else duration(overall["time_to_restore_median_h"] * 3600),
            f"median; {overall['open_incidents']} open incident(s)",
            "time_to_restore_median_h",
        ),
    ]
    out = []
    for title, value, note, field in tiles:
        points = [{"week": w["week"], field: w.get(field) or 0} for w in weeks]
        out.append(
            {
                "title": title,
                "value": value,
                "note": note,
                "spark": charts.sparkline(points, field=field, label=f"{title} per week")
                if len(points) > 1
                else None,
                "weeks": [(w["week"], num(w.get(field))) for w in weeks],
            }
        )
    return out


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


def slo_status(store: MetadataStore, monitor: MonitorRecord | None) -> dict[str, Any]:
    """The latest window's SLO verdict for the monitor of a model's production alias."""
    from loopline.monitoring import SLO, window_status

    if monitor is None:
        return {"status": "no monitor", "detail": "no monitor on @production"}
    windows = _recent_windows(store, monitor, 1)
    if not windows:
        return {"status": "no data", "detail": "no window computed yet"}
    objectives = window_status(windows[-1], SLO.parse(monitor.config.get("slo")))
    states = [o["status"] for o in objectives.values()]
    status = "violated" if "violated" in states else "met" if "met" in states else "no data"
    broken = [k for k, o in objectives.items() if o["status"] == "violated"]
    detail = (
        ("violated: " + ", ".join(broken)) if broken else f"window {_window_label(windows[-1])}"
    )
    return {"status": status, "detail": detail}


def overview(store: MetadataStore, dora: DoraCache) -> dict[str, Any]:
    models = store.list_registered_models()
    alerts = store.list_alerts(status="open", limit=1000)
    by_model: dict[str, list[AlertRecord]] = defaultdict(list)
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


# --- model ------------------------------------------------------------------------------------


def _alias_order(aliases: Iterable[str]) -> list[str]:
    return sorted(
        aliases,
        key=lambda a: (
            a not in PROTECTED_FIRST,
            PROTECTED_FIRST.index(a) if a in PROTECTED_FIRST else 0,
            a,
        ),
    )


def lineage_svg(
    store: MetadataStore, version: ModelVersion, deployments: Sequence[Deployment]
) -> str:
    name = version.model
    datasets: list[GNode] = []
    run_nodes: list[GNode] = []
    try:
        run = store.get_run(version.run_id)
        run_nodes.append(
            GNode(
                f"run:{run.id}",
                run.name or run.id[:8],
                "run",
                f"{run.id[:8]} · {run.experiment}",
                f"/runs/{run.id}",
            )
        )
        for use in store.run_datasets(run.id):
            datasets.append(
                GNode(
                    f"data:{use.dataset.fingerprint}:{use.role}",
                    use.name,
                    "dataset",
                    f"{use.role} · {use.dataset.fingerprint[:10]} · {use.dataset.n_rows:,} rows",
                )
            )
    except NotFoundError:
        run_nodes.append(GNode("run:?", version.run_id[:8], "run", "run not found"))
    vnode = GNode(
        "version",
        f"{name} v{version.version}",
        "version",
        f"{version.flavor} · {version.sha256[:10]}",
        f"/models/{name}?version={version.version}",
    )
    right = [GNode(f"alias:{a}", f"@{a}", "alias", "alias") for a in _alias_order(version.aliases)]
    for d in deployments[-4:]:
        right.append(
            GNode(
                f"dep:{d.id}",
                f"deployment #{d.id}",
                "deployment",
                f"{d.strategy} · {d.status}",
                f"/models/{name}/deployment",
            )
        )
    columns = [c for c in (datasets, run_nodes, [vnode], right) if c]
    edges = [GEdge(d.id, run_nodes[0].id, "used") for d in datasets]
    edges.append(GEdge(run_nodes[0].id, "version", "produced"))
    edges += [GEdge("version", r.id) for r in right]
    return layered(columns, edges, title=f"lineage of {name} v{version.version}")


def model_page(store: MetadataStore, name: str, version: int | None, page: int) -> dict[str, Any]:
    model = store.get_registered_model(name)
    versions = store.list_versions(name)
    if not versions:
        raise NotFoundError(f"model {name!r} has no versions", hint="register one first")
    by_number = {v.version: v for v in versions}
    newest_first = list(reversed(versions))
    pages = max(1, -(-len(newest_first) // VERSIONS_PER_PAGE))
    page = min(max(1, page), pages)
    shown = newest_first[(page - 1) * VERSIONS_PER_PAGE : page * VERSIONS_PER_PAGE]
    gates = {v.version: store.list_gate_decisions(name, v.version) for v in shown}
    metric_keys = [k for k, _ in Counter(k for v in versions for k in v.metrics).most_common(6)]
    selected_no = version or model.aliases.get("production") or versions[-1].version
    if selected_no not in by_number:
        raise NotFoundError(
            f"model {name!r} has no version {selected_no}",
            hint=f"versions run from 1 to {versions[-1].version}",
        )
    selected = by_number[selected_no]
    deployments = store.list_deployments(name)
    mine = [d for d in deployments if selected_no in (d.champion_version, d.challenger_version)]
    history = list(reversed(store.alias_history(name)))[:TIMELINE_ROWS]
    chart_rows = [
        {"version": v.version, "metric": k, "value": v.metrics[k]}
        for v in _thin(versions, 200)
        for k in metric_keys[:4]
        if k in v.metrics
    ]
    return {
        "model": model,
        "aliases": [(a, model.aliases[a]) for a in _alias_order(model.aliases)],
        "versions": shown,
        "n_versions": len(versions),
        "page": page,
        "pages": pages,
        "gates": gates,
        "metric_keys": metric_keys,
        "selected": selected,
        "card": selected.card,
        "approvals": store.list_approvals(name, selected_no),
        "selected_gates": gates.get(selected_no) or store.list_gate_decisions(name, selected_no),
        "lineage_svg": lineage_svg(store, selected, mine),
        "history": history,
        "deployments": list(reversed(deployments))[:5],
        "metrics_chart": charts.lines(
            chart_rows,
            x="version",
            y="value",
            series="metric",
            x_title="version",
            y_title="value",
            x_type="ordinal",
        )
        if len(versions) > 1 and chart_rows
        else None,
    }


# --- runs -------------------------------------------------------------------------------------


def runs_page(
    store: MetadataStore,
    *,
    experiment: str | None,
    status: str | None,
    tag: str | None,
    sort: str | None,
    page: int,
) -> dict[str, Any]:
    error: str | None = None
    runs: list[Run] = []
    page = max(1, page)
    if status and status not in RUN_STATUSES:
        error = f"unknown status {status!r}: use one of {', '.join(RUN_STATUSES)}"
    tags = [t.strip() for t in (tag or "").split(",") if t.strip()]
    for t in tags:
        if "=" not in t:
            error = f"tag filter {t!r} is not key=value"
    if error is None:
        try:
            runs = store.list_runs(
                experiment=experiment or None,
                status=status or None,
                limit=RUNS_PER_PAGE + 1,
                order_by=sort or None,
                offset=(page - 1) * RUNS_PER_PAGE,
                tag=tags,
            )
        except (InvalidInputError, NotFoundError) as exc:
            error = exc.one_line()
    more = len(runs) > RUNS_PER_PAGE
    runs = runs[:RUNS_PER_PAGE]
    param_keys = [k for k, _ in Counter(k for r in runs for k in r.params).most_common(4)]
    metric_keys = [k for k, _ in Counter(k for r in runs for k in r.metrics).most_common(4)]
    return {
        "runs": runs,
        "experiments": store.list_experiments(),
        "statuses": RUN_STATUSES,
        "filters": {
            "experiment": experiment or "",
            "status": status or "",
            "tag": tag or "",
            "sort": sort or "",
        },
        "page": page,
        "more": more,
        "param_keys": param_keys,
        "metric_keys": metric_keys,
        "error": error,
        "max_compare": MAX_COMPARE,
    }


def run_page(store: MetadataStore, run_id: str) -> dict[str, Any]:
    run = store.get_run(run_id)
    return {
        "run": run,
        "lineage": asdict(run.lineage),
        "datasets": store.run_datasets(run.id),
        "artifacts": store.list_artifacts(run.id),
    }


def compare_page(store: MetadataStore, ids: Sequence[str]) -> dict[str, Any]:
    unique = list(dict.fromkeys(i.strip() for i in ids if i.strip()))
    if not 2 <= len(unique) <= MAX_COMPARE:
        raise InvalidInputError(
            f"compare needs 2 to {MAX_COMPARE} runs, got {len(unique)}",
            hint="tick between 2 and 10 runs in the runs table",
        )
    runs = [store.get_run(i) for i in unique]
    labels = {r.id: f"{r.id[:8]} {r.name}".strip()[:28] for r in runs}
    keys = sorted({k for r in runs for k in r.params})
    params = []
    for k in keys:
        values = [r.params.get(k) for r in runs]
        params.append({"key": k, "cells": values, "differs": len(set(values)) > 1})
    metric_keys = sorted({k for r in runs for k in r.metrics})
    metrics = [
        {
            "key": k,
            "cells": [r.metrics.get(k) for r in runs],
            "differs": len({r.metrics.get(k) for r in runs}) > 1,
        }
        for k in metric_keys
    ]
    series: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in runs:
        by_key: dict[str, list[Any]] = defaultdict(list)
        for p in store.metric_history(r.id):
            by_key[p.key].append(p)
        for k, pts in by_key.items():
            for p in _thin(pts):
                series[k].append({"step": p.step, "value": p.value, "run": labels[r.id]})
    chart_specs = [
        {
            "key": k,
            "spec": charts.lines(
                rows, x="step", y="value", series="run", x_title="step", y_title=k, title=k
            ),
            "single": len({row["step"] for row in rows}) == 1,
        }
        for k, rows in sorted(series.items())
    ]
    return {
        "runs": runs,
        "labels": labels,
        "params": params,
        "metrics": metrics,
        "charts": chart_specs,
        "n_differ": sum(p["differs"] for p in params),
    }


# --- deployment -------------------------------------------------------------------------------


def _live_traffic(capture: Path | None, model: str) -> dict[str, Any]:
    """The last hour of captured requests (ending at the newest capture): requests per
    minute per arm, and latency p50/p95 per minute per arm. Only the newest files of the
    last two days are read, and only their small columns."""
    import numpy as np
    import pyarrow.parquet as pq

    root = capture / model if capture is not None else None
    if root is None or not root.is_dir():
        return {"rows": 0}
    days = sorted((p for p in root.iterdir() if p.is_dir()), reverse=True)[:2]
    files = sorted((f for d in days for f in d.glob("*.parquet")), key=lambda f: f.name)[-300:]
    if not files:
        return {"rows": 0}
    newest_ms = max(int(f.name.split("-")[0]) for f in files if f.name.split("-")[0].isdigit())
    start = newest_ms / 1000 - 3600
    files = [
        f
        for f in files
        if not f.name.split("-")[0].isdigit() or int(f.name.split("-")[0]) / 1000 >= start - 120
    ]
    cols = ["request_id", "ts", "version", "arm", "latency_ms"]
    frames = []
    for f in files:
        try:
            frames.append(pq.read_table(f, columns=cols).to_pandas())
        except (OSError, ValueError):
            continue  # a file being written right now
    if not frames:
        return {"rows": 0}
    import pandas as pd

    df = pd.concat(frames, ignore_index=True)
    df = df[df["ts"] >= start].drop_duplicates("request_id")
    if df.empty:
        return {"rows": 0}
    df["minute"] = (df["ts"] // 60 * 60).astype("int64")
    df["label"] = df["arm"].astype(str) + " v" + df["version"].astype(str)
    traffic, latency, arms = [], [], []
    for (minute, label), part in df.groupby(["minute", "label"]):
        iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(minute)))
        traffic.append({"minute": iso, "arm": label, "requests": len(part)})
        p50, p95 = (float(v) for v in np.percentile(part["latency_ms"], [50, 95]))
        latency.append({"minute": iso, "series": f"{label} p50", "ms": p50})
        latency.append({"minute": iso, "series": f"{label} p95", "ms": p95})
    for label, part in df.groupby("label"):
        arms.append(
            {
                "arm": label,
                "requests": len(part),
                "share": len(part) / len(df),
                "p50": float(np.percentile(part["latency_ms"], 50)),
                "p95": float(np.percentile(part["latency_ms"], 95)),
            }
        )
    return {
        "rows": len(df),
        "until": newest_ms / 1000,
        "arms": arms,
        "traffic_chart": charts.stacked_area(
            traffic, x="minute", y="requests", series="arm", y_title="requests / min"
        ),
        "latency_chart": {
            **charts.lines(
                latency,
                x="minute",
                y="ms",
                series="series",
                x_title="minute",
                y_title="latency (ms)",
                x_type="temporal",
            )
        },
    }


def deployment_page(store: MetadataStore, name: str, capture: Path | None) -> dict[str, Any]:
    model = store.get_registered_model(name)
    deployments = store.list_deployments(name)
    active = store.active_deployment(name)
    progress = None
    if active is not None:
        steps = [float(s) for s in active.params.get("steps", [])]
        progress = {
            "steps": steps,
            "step": active.step,
            "percent": active.challenger_percent,
            "done": sum(1 for s in steps if s <= active.challenger_percent),
        }
    monitor = next(
        (m for m in store.list_monitors() if m.uri == f"models:/{name}@production"), None
    )
    errors: list[dict[str, Any]] = []
    slo_lat: list[dict[str, Any]] = []
    if monitor is not None:
        for w in _recent_windows(store, monitor, 30):
            e = w.result.get("errors") or {}
            lat = w.result.get("latency") or {}
            label = _window_label(w)
            if e.get("requests"):
                errors.append(
                    {
                        "window": label,
                        "series": "error rate",
                        "value": e.get("errors", 0) / e["requests"],
                    }
                )
            for k in ("p50", "p95", "p99"):
                if lat.get(f"{k}_ms") is not None:
                    slo_lat.append({"window": label, "series": k, "value": lat[f"{k}_ms"]})
    return {
        "model": model,
        "active": active,
        "progress": progress,
        "traffic": _traffic(name, model.aliases.get("production"), active),
        "deployments": list(reversed(deployments))[:20],
        "live": _live_traffic(capture, name),
        "errors_chart": charts.lines(
            errors,
            x="window",
            y="value",
            series="series",
            x_title="window",
            y_title="error rate",
            x_type="ordinal",
        )
        if errors
        else None,
        "window_latency_chart": charts.lines(
            slo_lat,
            x="window",
            y="value",
            series="series",
            x_title="window",
            y_title="latency (ms)",
            x_type="ordinal",
        )
        if slo_lat
        else None,
    }


# --- monitoring -------------------------------------------------------------------------------


def monitoring_index(store: MetadataStore, model: str | None = None) -> dict[str, Any]:
    rows = []
    for m in store.list_monitors():
        if model and m.model != model:
            continue
        latest = _recent_windows(store, m, 1)
        feats = (latest[-1].result.get("features") or {}) if latest else {}
        drifted = sorted(n for n, f in feats.items() if f.get("status") in ("warning", "critical"))
        rows.append({"monitor": m, "latest": latest[-1] if latest else None, "drifted": drifted})
    alerts = store.list_alerts(model or None, status=None, limit=50)
    return {"monitors": rows, "alerts": alerts, "model": model}


def _status(f: Mapping[str, Any]) -> str:
    s = str(f.get("status") or "")
    return s if s in ("ok", "warning", "critical") else "no data"


def _hist_rows(f: Mapping[str, Any]) -> list[dict[str, Any]]:
    ref, cur = f.get("ref_fractions") or [], f.get("cur_fractions") or []
    if f.get("kind") == "numeric":
        edges = f.get("edges") or []
        bounds = ["-inf", *(f"{e:.3g}" for e in edges), "inf"]
        labels = [f"{bounds[i]}..{bounds[i + 1]}" for i in range(len(ref))]
    else:
        labels = [str(x) for x in f.get("labels", [])]
    rows = []
    for i, label in enumerate(labels):
        for side, values in (("reference", ref), ("current", cur)):
            share = values[i] if i < len(values) else 0.0
            rows.append({"bin": label, "order": i, "side": side, "share": share})
    return rows


def monitoring_page(store: MetadataStore, monitor_id: int, window: float | None) -> dict[str, Any]:
    monitor = next((m for m in store.list_monitors() if m.id == monitor_id), None)
    if monitor is None:
        raise NotFoundError(f"no monitor #{monitor_id}", hint="see /monitoring for the list")
    history = _recent_windows(store, monitor, int(monitor.config.get("lookback", 30) or 30))
    base = f"/monitoring/{monitor.id}"
    if not history:
        return {
            "monitor": monitor,
            "history": [],
            "alerts": store.list_alerts(monitor.model, None, 20),
        }
    selected = next(
        (w for w in history if window is not None and int(w.start) == int(window)), history[-1]
    )
    latest_feats = selected.result.get("features") or {}
    names = sorted({n for w in history for n in (w.result.get("features") or {})})
    order = sorted(names, key=lambda n: -float((latest_feats.get(n) or {}).get("value") or 0.0))
    cells: list[dict[str, Any]] = []
    table: list[dict[str, Any]] = []
    for w in history:
        label = _window_label(w)
        feats = w.result.get("features") or {}
        row_cells: list[dict[str, Any]] = []
        row = {"window": label, "start": int(w.start), "cells": row_cells}
        for n in order:
            f = feats.get(n) or {}
            v = f.get("value")
            cell = {
                "feature": n,
                "window": label,
                "value": v,
                "label": "" if v is None else "0" if abs(v) < 0.005 else f"{v:.2f}",
                "status": _status(f) if f else "no data",
                "stat": f.get("stat", ""),
                "href": f"{base}?window={int(w.start)}#feature-{n}",
            }
            cells.append(cell)
            row_cells.append(cell)
        table.append(row)
    hists = []
    for n in order:
        f = latest_feats.get(n) or {}
        if f.get("ref_fractions") and f.get("cur_fractions"):
            hists.append(
                {
                    "feature": n,
                    "status": _status(f),
                    "stat": f.get("stat", ""),
                    "value": f.get("value"),
                    "spec": charts.paired_bars(_hist_rows(f)),
                }
            )
    xs = [_window_label(w) for w in history]
    psi_rows = [
        {
            "window": xs[i],
            "feature": n,
            "psi": ((w.result.get("features") or {}).get(n) or {}).get("psi"),
        }
        for i, w in enumerate(history)
        for n in order[:8]
    ]
    perf_rows = [
        {"window": xs[i], "metric": k, "value": v}
        for i, w in enumerate(history)
        for k, v in (((w.result.get("performance") or {}).get("metrics")) or {}).items()
        if k in ("auc", "f1", "accuracy", "calibration_error", "mae", "rmse", "r2")
        and isinstance(v, int | float)
    ]
    out_rows = [
        {"window": xs[i], "series": "predictions", "psi": (w.result.get("output") or {}).get("psi")}
        for i, w in enumerate(history)
        if (w.result.get("output") or {}).get("psi") is not None
    ]
    alerts = store.list_alerts(monitor.model, None, 20)
    return {
        "monitor": monitor,
        "history": history,
        "selected": selected,
        "selected_label": _window_label(selected),
        "order": order,
        "table": table,
        "heatmap": charts.heatmap(cells, feature_order=order),
        "hists": hists,
        "psi_chart": charts.lines(
            [r for r in psi_rows if r["psi"] is not None],
            x="window",
            y="psi",
            series="feature",
            x_title="window",
            y_title="PSI vs training",
            x_type="ordinal",
            rules={"warn": 0.1, "alert": 0.2},
        ),
        "perf_chart": charts.lines(
            perf_rows,
            x="window",
            y="value",
            series="metric",
            x_title="window",
            y_title="labelled performance",
            x_type="ordinal",
        )
        if perf_rows
        else None,
        "output_chart": charts.lines(
            out_rows,
            x="window",
            y="psi",
            series="series",
            x_title="window",
            y_title="output PSI",
            x_type="ordinal",
            rules={"alert": 0.2},
        )
        if out_rows
        else None,
        "alerts": alerts,
    }


# --- pipelines --------------------------------------------------------------------------------

_DIAGRAMS: dict[tuple[str, float], str] = {}


def pipeline_diagram(path: str) -> str | None:
    """The pipeline's diagram as inline SVG: Graphviz's layout when `dot` is installed,
    else a layered drawing of the same graph (`diagram_graph`). None if the spec file is
    not readable from the server."""
    from loopline.pipelines import diagram_graph, load_pipeline, render_diagram

    p = Path(path)
    try:
        key = (str(p), p.stat().st_mtime)
    except OSError:
        return None
    if key in _DIAGRAMS:
        return _DIAGRAMS[key]
    try:
        spec = load_pipeline(p)
        if shutil.which("dot"):
            svg = str(render_diagram(spec, "svg"))
            svg = svg[svg.find("<svg") :]
        else:
            d = diagram_graph(spec)
            nodes = [GNode(n.id, n.label, n.shape, fill=n.color) for n in d.nodes]
            edges = [GEdge(e.src, e.dst, e.label, e.style) for e in d.edges]
            cols = layers_by_longest_path(nodes, edges, ("reject", "rollback", "feedback"))
            svg = layered(cols, edges, title=d.title, node_w=150, gap_x=40)
    except LooplineError:
        return None
    _DIAGRAMS[key] = svg
    return svg


def pipelines_page(store: MetadataStore) -> dict[str, Any]:
    runs = store.list_runs(tag=["loopline.kind=pipeline"], limit=100)
    by_pipeline: dict[str, list[Run]] = defaultdict(list)
    for r in runs:
        by_pipeline[r.tags.get("loopline.pipeline", r.experiment)].append(r)
    pipelines = []
    for name, rs in sorted(by_pipeline.items()):
        file = next((r.tags["pipeline.file"] for r in rs if r.tags.get("pipeline.file")), None)
        steps = [k[5:] for k in rs[0].tags if k.startswith("step.")]
        pipelines.append(
            {
                "name": name,
                "file": file,
                "diagram": pipeline_diagram(file) if file else None,
                "steps": steps,
                "runs": [
                    {
                        "run": r,
                        "steps": [(s, r.tags.get(f"step.{s}", "")) for s in steps],
                    }
                    for r in rs[:25]
                ],
            }
        )
    return {"pipelines": pipelines}


# --- audit ------------------------------------------------------------------------------------


def audit_page(store: MetadataStore, q: str | None, page: int) -> dict[str, Any]:
    """Newest first; `q` matches actor, action, target or reason (case-insensitive)."""
    from loopline.ops.audit import verify_chain

    events = []
    after = 0
    while True:
        chunk = store.list_audit_events(after_id=after, limit=10_000)
        events.extend(chunk)
        if len(chunk) < 10_000:
            break
        after = chunk[-1].id
    verdict = verify_chain(events)
    needle = (q or "").strip().lower()
    if needle:
        hits = [
            e
            for e in events
            if needle
            in f"{e.actor} {e.action} {e.target_kind} {e.target_id} {e.reason or ''}".lower()
        ]
    else:
        hits = events
    hits.reverse()
    pages = max(1, -(-len(hits) // AUDIT_PER_PAGE))
    page = min(max(1, page), pages)
    shown = hits[(page - 1) * AUDIT_PER_PAGE : page * AUDIT_PER_PAGE]
    return {
        "events": [
            {
                "e": e,
                "after": json.dumps(e.after, sort_keys=True, default=str)[:300] if e.after else "",
                "before": json.dumps(e.before, sort_keys=True, default=str)[:300]
                if e.before
                else "",
            }
            for e in shown
        ],
        "total": len(events),
        "matches": len(hits),
        "q": q or "",
        "page": page,
        "pages": pages,
        "verdict": verdict,
    }


__all__ = [
    "DoraCache",
    "audit_page",
    "compare_page",
    "deployment_page",
    "model_page",
    "monitoring_index",
    "monitoring_page",
    "overview",
    "pipelines_page",
    "run_page",
    "runs_page",
]
