"""A self-contained HTML validation report: a rule table and an inline SVG chart per failing
column (no scripts, no external assets, so it opens anywhere and can be kept as an artifact).

`ValidationReport.to_html` calls this module, so it reads the report through `_Report`, the
part of it the page shows, instead of importing `_report` back.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

_BINS, _BARS, _FAILING_BARS = 20, 14, 6
_COLORS = {"passed": "#2e7d32", "warned": "#ef6c00", "quarantined": "#6a1b9a", "failed": "#c62828"}
_OK, _BAD, _SPECIAL = "#90a4ae", "#e53935", "#ffb300"


class _Report(Protocol):
    """What the page shows of a `ValidationReport` (rules are its `RuleResult`s)."""

    @property
    def verdict(self) -> str: ...
    @property
    def contract(self) -> str | None: ...
    @property
    def source(self) -> str | None: ...
    @property
    def n_rows(self) -> int: ...
    @property
    def n_columns(self) -> int: ...
    @property
    def duration_s(self) -> float: ...
    @property
    def charts(self) -> dict[str, dict[str, Any]]: ...
    @property
    def rules(self) -> Sequence[Any]: ...
    @property
    def failures(self) -> Sequence[Any]: ...
    def summary(self) -> str: ...


def _edges(values: np.ndarray) -> np.ndarray:
    """Histogram edges: `_BINS` equal bins, or one when the span is too narrow for float64
    to split (large integer ids a few units apart: NumPy refuses 20 "finite-sized" bins)."""
    try:
        return np.histogram_bin_edges(values, bins=_BINS)
    except ValueError:
        lo, hi = float(values.min()), float(values.max())
        return np.array([lo, hi if hi > lo else np.nextafter(lo, np.inf)])


def chart_data(
    series: pd.Series, failing: np.ndarray, numbers: np.ndarray | None
) -> dict[str, Any]:
    """Compact chart input for one failing column: bins and counts, never rows."""
    present = series.notna().to_numpy()
    nulls = int((~present).sum())
    if numbers is not None:
        finite = np.isfinite(numbers)
        if finite.any():
            edges = _edges(numbers[finite])
            return {
                "kind": "histogram",
                "edges": edges.tolist(),
                "counts": np.histogram(numbers[finite], edges)[0].tolist(),
                "failing": np.histogram(numbers[finite & failing], edges)[0].tolist(),
                "extra": {
                    "null": [nulls, int((~present & failing).sum())],
                    "not a number": [
                        int((present & ~finite).sum()),
                        int((present & ~finite & failing).sum()),
                    ],
                },
            }
    text = series[present].astype("str")
    counts = text.value_counts()
    bad = text[failing[present]].value_counts()
    labels = list(dict.fromkeys([*bad.index[:_FAILING_BARS], *counts.index[:_BARS]]))[:_BARS]
    shown = sum(int(counts[lab]) for lab in labels)
    shown_bad = sum(int(bad.get(lab, 0)) for lab in labels)
    return {
        "kind": "bars",
        "labels": [str(lab) for lab in labels],
        "counts": [int(counts[lab]) for lab in labels],
        "failing": [int(bad.get(lab, 0)) for lab in labels],
        "extra": {
            "other values": [int(present.sum()) - shown, int(bad.sum()) - shown_bad],
            "null": [nulls, int((~present & failing).sum())],
        },
    }


def _histogram_svg(chart: dict[str, Any]) -> str:
    counts, failing, edges = chart["counts"], chart["failing"], chart["edges"]
    extra = [(k, v) for k, v in chart["extra"].items() if v[0]]
    slots = len(counts) + len(extra) + (1 if extra else 0)
    height, left, bottom, step = 200, 50, 170, 26.0
    width = int(left + slots * step + 90)  # room for the last label
    top = max([*counts, *(v[0] for _, v in extra), 1])
    parts = [
        f'<svg width="{width}" height="{height + 30}" role="img" style="font:11px sans-serif">'
    ]
    bars = [(c, f) for c, f in zip(counts, failing, strict=True)] + [(0, 0)] * bool(extra)
    bars += [(v[0], v[1]) for _, v in extra]
    for i, (c, f) in enumerate(bars):
        x, h, hf = left + i * step, 150 * c / top, 150 * f / top
        h, hf = max(h, 2.0 * bool(c)), max(hf, 2.0 * bool(f))  # a few rows stay visible
        color = _SPECIAL if i > len(counts) else _OK
        parts.append(
            f'<rect x="{x:.1f}" y="{bottom - h:.1f}" width="{step - 2:.1f}" '
            f'height="{h:.1f}" fill="{color}"><title>{c:,} rows</title></rect>'
        )
        if f:
            parts.append(
                f'<rect x="{x:.1f}" y="{bottom - hf:.1f}" width="{step - 2:.1f}" '
                f'height="{hf:.1f}" fill="{_BAD}"><title>{f:,} failing</title></rect>'
                f'<text x="{x:.1f}" y="{bottom - hf - 3:.1f}" fill="{_BAD}">{f:,}</text>'
            )
    parts.append(f'<text x="{left}" y="{bottom + 14}">{edges[0]:.4g}</text>')
    parts.append(
        f'<text x="{left + len(counts) * step - 30:.1f}" y="{bottom + 14}">{edges[-1]:.4g}</text>'
    )
    for j, (name, _) in enumerate(extra):
        x = left + (len(counts) + 1 + j) * step
        parts.append(f'<text x="{x:.1f}" y="{bottom + 14}">{html.escape(name)}</text>')
    parts.append(f'<text x="0" y="12">{top:,}</text></svg>')
    return "".join(parts)


def _bars_svg(chart: dict[str, Any]) -> str:
    rows = list(zip(chart["labels"], chart["counts"], chart["failing"], strict=True))
    rows += [(k, v[0], v[1]) for k, v in chart["extra"].items() if v[0]]
    top = max([c for _, c, _ in rows] or [1])
    width, label_w, row_h = 640, 180, 18
    parts = [
        f'<svg width="{width}" height="{row_h * len(rows) + 10}" role="img" '
        'style="font:11px sans-serif">'
    ]
    for i, (label, c, f) in enumerate(rows):
        y = 5 + i * row_h
        w, wf = (width - label_w - 70) * c / top, (width - label_w - 70) * f / top
        name = html.escape(str(label)[:28])
        parts.append(f'<text x="0" y="{y + 12}">{name}</text>')
        parts.append(
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{row_h - 4}" fill="{_OK}"/>'
        )
        if f:
            parts.append(
                f'<rect x="{label_w}" y="{y}" width="{wf:.1f}" height="{row_h - 4}" fill="{_BAD}"/>'
            )
        note = f"{c:,}" + (f" ({f:,} failing)" if f else "")
        parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 12}">{note}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _cell(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _rule_rows(rules: Sequence[Any]) -> str:
    rows = []
    for r in rules:
        frac = "" if r.failing_fraction is None else f"{r.failing_fraction:.2%}"
        examples = "; ".join(f"row {x['row']}: {x['value']}" for x in r.examples)
        style = ' class="bad"' if r.failed else ' class="skip"' if r.status == "skipped" else ""
        rows.append(
            f"<tr{style}><td>{_cell(r.id)}</td><td>{_cell(r.severity)}</td>"
            f"<td>{_cell(r.status)}</td><td>{_cell(r.failing_count)}</td><td>{frac}</td>"
            f"<td>{_cell(r.expectation)}</td><td>{_cell(r.message)}</td>"
            f"<td>{_cell(examples)}</td></tr>"
        )
    head = (
        "<table><tr><th>rule</th><th>severity</th><th>status</th><th>failing</th>"
        "<th>fraction</th><th>expectation</th><th>detail</th><th>examples</th></tr>"
    )
    return head + "".join(rows) + "</table>"


def render_html(report: _Report) -> str:
    e = html.escape
    color = _COLORS.get(report.verdict, "#555")
    charts = []
    for column, chart in report.charts.items():
        svg = _histogram_svg(chart) if chart["kind"] == "histogram" else _bars_svg(chart)
        failed = ", ".join(r.rule for r in report.failures if r.column == column)
        charts.append(
            f"<section><h3>{e(column)} <small>failed: {e(failed)}</small></h3>{svg}</section>"
        )
    failures = report.failures
    title = f"Validation of {report.source or 'data'} against {report.contract or 'contract'}"
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{e(title)}</title>
<style>body{{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}}
table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #ddd;padding:4px 6px;
text-align:left;vertical-align:top}}tr.bad td{{background:#fdecea}}tr.skip td{{color:#888}}
.verdict{{color:#fff;background:{color};padding:2px 10px;border-radius:4px}}
small{{color:#666;font-weight:normal}}summary{{cursor:pointer;font-weight:bold}}</style>
</head><body>
<h1>{e(title)}</h1>
<p><span class="verdict">{e(report.verdict)}</span> {e(report.summary())}</p>
<p>{report.n_rows:,} rows &times; {report.n_columns} columns · {len(report.rules)} rules ·
{report.duration_s * 1000:.1f} ms</p>
<h2>Failed rules</h2>
{_rule_rows(failures) if failures else "<p>None.</p>"}
<h2>Failing columns</h2>
{"".join(charts) or "<p>No failing column.</p>"}
<p><small>Grey: all rows; red: failing rows; amber: nulls and values that are not numbers.
</small></p>
<details><summary>All {len(report.rules)} rules</summary>{_rule_rows(report.rules)}</details>
</body></html>
"""


__all__ = ["chart_data", "render_html"]
