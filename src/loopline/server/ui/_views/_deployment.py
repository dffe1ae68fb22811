"""A model's deployment page: the rollout, live traffic from the capture and window SLOs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from loopline.server.ui import _charts as charts
from loopline.server.ui._views._common import (
    _recent_windows,
    _traffic,
    _window_label,
    monitor_problem,
)
from loopline.store import MetadataStore


def _recent_capture(capture: Path | None, model: str) -> tuple[Any, float] | None:
    """The last hour of captured requests (ending at the newest capture) as a frame, and
    when that hour ends; None without any. Only the newest files of the last two days are
    read, and only their small columns."""
    import pandas as pd
    import pyarrow.parquet as pq

    root = capture / model if capture is not None else None
    if root is None or not root.is_dir():
        return None
    days = sorted((p for p in root.iterdir() if p.is_dir()), reverse=True)[:2]
    files = sorted((f for d in days for f in d.glob("*.parquet")), key=lambda f: f.name)[-300:]
    stamps = [int(f.name.split("-")[0]) for f in files if f.name.split("-")[0].isdigit()]
    if not stamps:
        return None
    newest_ms = max(stamps)
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
        return None
    df = pd.concat(frames, ignore_index=True)
    df = df[df["ts"] >= start].drop_duplicates("request_id")
    return (df, newest_ms / 1000) if not df.empty else None


def _live_traffic(capture: Path | None, model: str) -> dict[str, Any]:
    """Requests per minute per arm, and latency p50/p95 per minute per arm, over the last
    hour of captured requests."""
    import numpy as np

    found = _recent_capture(capture, model)
    if found is None:
        return {"rows": 0}
    df, until = found
    df["minute"] = (df["ts"] // 60 * 60).astype("int64")
    df["label"] = df["arm"].astype(str) + " v" + df["version"].astype(str)
    # Minutes from the first request to the last, both counted: one minute of data is a
    # rate too (its requests), not a blank.
    minutes = int(df["minute"].max() - df["minute"].min()) // 60 + 1
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
                "per_minute": len(part) / minutes,
                "share": len(part) / len(df),
                "p50": float(np.percentile(part["latency_ms"], 50)),
                "p95": float(np.percentile(part["latency_ms"], 95)),
            }
        )
    return {
        "rows": len(df),
        "until": until,
        "minutes": minutes,
        "per_minute": len(df) / minutes,
        "arms": arms,
        "traffic_chart": charts.stacked_area(
            traffic, x="minute", y="requests", series="arm", y_title="requests / min"
        ),
        "latency_chart": charts.lines(
            latency,
            x="minute",
            y="ms",
            series="series",
            x_title="minute",
            y_title="latency (ms)",
            x_type="temporal",
        ),
    }


def deployment_page(store: MetadataStore, name: str, capture: Path | None) -> dict[str, Any]:
    model = store.get_model(name)
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
    problem = None
    windows: list[Any] = []
    if monitor is not None:
        try:
            windows = _recent_windows(store, monitor, 30)
        except Exception as exc:  # shown above the charts; the rollout itself still shows
            problem = monitor_problem(monitor, exc)
        for w in windows:
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
        "monitor_problem": problem,
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
