"""Vega-Lite specifications for the UI's charts: plain dicts, rendered in the browser by the
vendored vega-embed (see docs/ui.md). Every chart also gets its numbers as an HTML table
next to it, so the page reads without JavaScript and with a screen reader."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Spec = dict[str, Any]
SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
# The monitoring report's colours (monitoring/_svg.py), so the UI and the HTML report agree.
REF, CUR = "#9aa5b1", "#4269d0"
# Time axes read in UTC, 24-hour, like every time the pages print (not the browser's zone).
UTC_MINUTES: Spec = {"scale": {"type": "utc"}, "axis": {"format": "%H:%M", "labelAngle": 0}}
HIST_LABEL_PX = 90  # longest category label drawn under a histogram bar, in pixels


def _base(title: str | None = None, height: int = 180) -> Spec:
    spec: Spec = {
        "$schema": SCHEMA,
        "width": "container",
        "height": height,
        "autosize": {"type": "fit", "contains": "padding"},
        "config": {"view": {"stroke": None}, "axis": {"labelFontSize": 11, "titleFontSize": 11}},
    }
    if title:
        spec["title"] = {"text": title, "anchor": "start", "fontSize": 13}
    return spec


def lines(
    rows: Sequence[Mapping[str, Any]],
    *,
    x: str,
    y: str,
    series: str,
    x_title: str,
    y_title: str,
    x_type: str = "quantitative",
    title: str | None = None,
    rules: Mapping[str, float] | None = None,
    height: int = 180,
) -> Spec:
    """One line per `series` value; dashed red threshold rules."""
    x_enc: Spec = {"field": x, "type": x_type, "title": x_title, "axis": {"labelAngle": 0}}
    if x_type == "temporal":
        x_enc = {**x_enc, **UTC_MINUTES}
    layer: list[Spec] = [
        {
            "mark": {"type": "line", "point": True, "tooltip": True},
            "encoding": {
                "x": x_enc,
                "y": {"field": y, "type": "quantitative", "title": y_title},
                "color": {"field": series, "type": "nominal", "title": None},
            },
        }
    ]
    if rules:
        layer.append(
            {
                "data": {"values": [{"label": k, "v": v} for k, v in rules.items()]},
                "mark": {"type": "rule", "color": "#d62728", "strokeDash": [4, 3]},
                "encoding": {"y": {"field": "v", "type": "quantitative"}},
            }
        )
    return {**_base(title, height), "data": {"values": list(rows)}, "layer": layer}


def heatmap(
    rows: Sequence[Mapping[str, Any]], *, feature_order: Sequence[str], title: str | None = None
) -> Spec:
    """Feature (row) x window (column), coloured by drift verdict, the value printed in the
    cell; each cell links to that window's histograms (`href`)."""
    height = max(60, 30 * len(feature_order))
    color = {
        "field": "status",
        "type": "nominal",
        "title": "verdict",
        "scale": {
            "domain": ["ok", "warning", "critical", "no data"],
            "range": ["#e8f1e4", "#f2a93b", "#d62728", "#eeeeee"],
        },
    }
    enc_xy = {
        "x": {
            "field": "window",
            "type": "ordinal",
            "title": "window",
            "sort": None,
            "axis": {"labelAngle": 0},
        },
        "y": {"field": "feature", "type": "nominal", "title": None, "sort": list(feature_order)},
    }
    return {
        **_base(title, height),
        "autosize": {"type": "fit-x", "contains": "padding"},
        "data": {"values": list(rows)},
        "layer": [
            {
                "mark": {"type": "rect", "tooltip": True, "cursor": "pointer"},
                "encoding": {**enc_xy, "color": color, "href": {"field": "href"}},
            },
            {
                "mark": {"type": "text", "fontSize": 10},
                "encoding": {**enc_xy, "text": {"field": "label"}},
            },
        ],
    }


def paired_bars(rows: Sequence[Mapping[str, Any]], *, title: str | None = None) -> Spec:
    """Reference vs current share per bin or category (rows: bin, order, side, share).

    The bars keep their height whatever the labels: a long category label is cut on the
    axis (`labelLimit`, whole in the bar's tooltip) and the chart grows below the plot
    (`fit-x`) instead of the plot shrinking to fit the labels."""
    return {
        **_base(title, 150),
        "autosize": {"type": "fit-x", "contains": "padding"},
        "data": {"values": list(rows)},
        "mark": {"type": "bar", "tooltip": True},
        "encoding": {
            "x": {
                "field": "bin",
                "type": "nominal",
                "title": None,
                "sort": {"field": "order"},
                "axis": {"labelLimit": HIST_LABEL_PX},
            },
            "xOffset": {"field": "side"},
            "y": {"field": "share", "type": "quantitative", "axis": {"format": "%"}, "title": None},
            "color": {
                "field": "side",
                "type": "nominal",
                "title": None,
                "scale": {"domain": ["reference", "current"], "range": [REF, CUR]},
            },
        },
    }


def stacked_area(
    rows: Sequence[Mapping[str, Any]], *, x: str, y: str, series: str, y_title: str
) -> Spec:
    """Requests per minute per arm: an area over time, or stacked bars while there are fewer
    than two minutes (an area through one point draws nothing)."""
    one_point = len({row.get(x) for row in rows}) < 2
    mark: Spec = (
        {"type": "bar", "tooltip": True}
        if one_point
        else {"type": "area", "tooltip": True, "interpolate": "step-after"}
    )
    return {
        **_base(None, 160),
        "data": {"values": list(rows)},
        "mark": mark,
        "encoding": {
            "x": {"field": x, "type": "temporal", "title": None, **UTC_MINUTES},
            "y": {"field": y, "type": "quantitative", "stack": True, "title": y_title},
            "color": {"field": series, "type": "nominal", "title": "arm"},
        },
    }


def sparkline(values: Sequence[Mapping[str, Any]], *, field: str, label: str) -> Spec:
    """A tile's per-week trend: tiny, no axes."""
    return {
        "$schema": SCHEMA,
        "width": "container",
        "height": 36,
        "autosize": {"type": "fit", "contains": "padding"},
        "config": {"view": {"stroke": None}},
        "description": label,
        "data": {"values": list(values)},
        "mark": {"type": "area", "line": True, "opacity": 0.35, "tooltip": True},
        "encoding": {
            "x": {"field": "week", "type": "ordinal", "axis": None},
            "y": {"field": field, "type": "quantitative", "axis": None},
        },
    }


__all__ = ["heatmap", "lines", "paired_bars", "sparkline", "stacked_area"]
