"""The monitoring pages: the list of monitors and one monitor's drift over its windows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loopline.errors import NotFoundError
from loopline.monitoring import STATUS_COLOURS, STATUSES, cell_status
from loopline.server.ui import _charts as charts
from loopline.server.ui._views._common import (
    _recent_windows,
    _window_label,
    lookback,
    monitor_problem,
)
from loopline.store import MetadataStore, WindowResult


def monitoring_index(store: MetadataStore, model: str | None = None) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for m in store.list_monitors():
        if model and m.model != model:
            continue
        try:
            latest = _recent_windows(store, m, 1)
            result = latest[-1].result if latest else {}
            feats = result.get("features") or {}
            sigs = result.get("signals") or {}
            drifted = sorted(
                str(n)
                for n in {*feats, *sigs}
                if cell_status(feats.get(n), sigs.get(n)) in ("warning", "critical")
            )
        except Exception as exc:  # one broken monitor: an error in its own row
            rows.append(
                {"monitor": m, "latest": None, "drifted": [], "error": monitor_problem(m, exc)}
            )
            continue
        rows.append(
            {
                "monitor": m,
                "latest": latest[-1] if latest else None,
                "drifted": drifted,
                "error": None,
            }
        )
    alerts = store.list_alerts(model or None, status=None, limit=50)
    return {"monitors": rows, "alerts": alerts, "model": model}


def _status(f: Mapping[str, Any] | None, signals: Mapping[str, Any] | None = None) -> str:
    """The cell rule shared with the HTML report (`loopline.monitoring.cell_status`)."""
    return cell_status(f, signals)


def _heatmap(cells: list[dict[str, Any]], order: list[str]) -> dict[str, Any]:
    """The heatmap spec, its colour scale taken from the shared status → colour rule."""
    spec = charts.heatmap(cells, feature_order=order)
    scale = {"domain": list(STATUSES), "range": [STATUS_COLOURS[s] for s in STATUSES]}
    for layer in spec.get("layer", []):
        color = layer.get("encoding", {}).get("color")
        if isinstance(color, dict) and color.get("field") == "status":
            color["scale"] = scale
    return spec


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


def _checks(signals: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Column checks of the selected window: null rate against training, breached signals."""
    rows = []
    for name, sigs in sorted(signals.items()):
        sigs = sigs or {}
        nr = sigs.get("null_rate") or {}
        flagged = [
            {
                "signal": k.replace("_", " "),
                "status": v.get("status"),
                "explained": bool(v.get("explained_by")),
            }
            for k, v in sigs.items()
            if isinstance(v, dict) and v.get("status") in ("warning", "critical")
        ]
        rows.append(
            {
                "column": name,
                "ref_null": nr.get("reference"),
                "cur_null": nr.get("value"),
                "pvalue": nr.get("pvalue"),
                "flagged": flagged,
                "status": cell_status(None, sigs),
            }
        )
    return rows


def monitoring_page(store: MetadataStore, monitor_id: int, window: float | None) -> dict[str, Any]:
    monitor = next((m for m in store.list_monitors() if m.id == monitor_id), None)
    if monitor is None:
        raise NotFoundError(f"no monitor #{monitor_id}", hint="see /monitoring for the list")
    try:
        history = _recent_windows(store, monitor, lookback(monitor))
        problem = None
    except Exception as exc:  # the page still shows the monitor, with what is wrong
        history, problem = [], monitor_problem(monitor, exc)
    if not history:
        return {
            "monitor": monitor,
            "history": [],
            "problem": problem,
            "alerts": store.list_alerts(monitor.model, None, 20),
        }
    selected = next(
        (w for w in history if window is not None and int(w.start) == int(window)), history[-1]
    )
    latest_feats = selected.result.get("features") or {}
    latest_sigs = selected.result.get("signals") or {}
    order = _feature_order(history, latest_feats)
    cells, table = _drift_table(history, order, f"/monitoring/{monitor.id}")
    hists = _histograms(order, latest_feats, latest_sigs)
    trends = _trend_charts(history, order)
    alerts = store.list_alerts(monitor.model, None, 20)
    return {
        "monitor": monitor,
        "history": history,
        "problem": None,
        "selected": selected,
        "selected_label": _window_label(selected),
        "order": order,
        "table": table,
        "heatmap": _heatmap(cells, order),
        "checks": _checks(latest_sigs),
        "hists": hists,
        **trends,
        "alerts": alerts,
    }


def _feature_order(history: list[WindowResult], latest_feats: Mapping[str, Any]) -> list[str]:
    """Every column any window reports on, most drifted (in the selected window) first."""
    names = sorted(
        {n for w in history for key in ("features", "signals") for n in (w.result.get(key) or {})}
    )
    return sorted(names, key=lambda n: -float((latest_feats.get(n) or {}).get("value") or 0.0))


def _drift_table(
    history: list[WindowResult], order: list[str], base: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One cell per (window, column): the heatmap's cells, and the same cells as table rows
    (one row per window, each cell linking to its window's histograms)."""
    cells: list[dict[str, Any]] = []
    table: list[dict[str, Any]] = []
    for w in history:
        label = _window_label(w)
        feats = w.result.get("features") or {}
        sigs = w.result.get("signals") or {}
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
                "status": _status(f, sigs.get(n)),
                "stat": f.get("stat", ""),
                "href": f"{base}?window={int(w.start)}#feature-{n}",
            }
            cells.append(cell)
            row_cells.append(cell)
        table.append(row)
    return cells, table


def _histograms(
    order: list[str], latest_feats: Mapping[str, Any], latest_sigs: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Reference against current bins, for each column of the selected window that has them."""
    hists = []
    for n in order:
        f = latest_feats.get(n) or {}
        if f.get("ref_fractions") and f.get("cur_fractions"):
            hists.append(
                {
                    "feature": n,
                    "status": _status(f, latest_sigs.get(n)),
                    "stat": f.get("stat", ""),
                    "value": f.get("value"),
                    "spec": charts.paired_bars(_hist_rows(f)),
                }
            )
    return hists


def _trend_charts(history: list[WindowResult], order: list[str]) -> dict[str, Any]:
    """Over the windows: PSI of the eight most drifted columns, labelled performance and
    the predictions' own PSI (each of the last two only when some window has it)."""
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
    return {
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
    }
