"""Small inline-SVG charts for the monitoring report: no JavaScript, no external files, so the
report opens anywhere (an air-gapped laptop, an email attachment, a CI artifact)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from loopline.monitoring._status import status_colour

PALETTE = ("#4269d0", "#efb118", "#ff725c", "#6cc5b0", "#3ca951", "#ff8ab7", "#a463f2", "#97bbf5")
REF, CUR = "#9aa5b1", "#4269d0"


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def heatmap(
    rows: Sequence[str],
    cols: Sequence[str],
    values: Mapping[tuple[str, str], float | None],
    statuses: Mapping[tuple[str, str], str],
) -> str:
    """Feature (row) x window (column) cells, the drift value printed, coloured by the
    cell's status (`cell_status`: verdict and column signals), never by the raw value."""
    cell_w, cell_h, left, top = 46, 22, 150, 70
    width, height = left + cell_w * len(cols) + 10, top + cell_h * len(rows) + 10
    parts = [f'<svg class="chart" width="{width}" height="{height}" role="img">']
    for j, col in enumerate(cols):
        x = left + j * cell_w + cell_w / 2
        parts.append(
            f'<text x="{x}" y="{top - 6}" font-size="10" transform="rotate(-45 {x} {top - 6})">'
            f"{escape(col)}</text>"
        )
    for i, row in enumerate(rows):
        y = top + i * cell_h
        parts.append(
            f'<text x="{left - 6}" y="{y + 15}" font-size="11" text-anchor="end">'
            f"{escape(row)}</text>"
        )
        for j, col in enumerate(cols):
            v = values.get((row, col))
            status = statuses.get((row, col), "no data")
            tip = f"{row} @ {col}: {'n/a' if v is None else _fmt(v)} ({status})"
            parts.append(
                f'<rect x="{left + j * cell_w}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" '
                f'fill="{status_colour(status)}" data-feature="{escape(row)}" '
                f'data-window="{escape(col)}" data-status="{escape(status)}">'
                f"<title>{escape(tip)}</title></rect>"
            )
            if v is not None:
                ink = ' fill="#fff"' if status == "critical" else ""
                parts.append(
                    f'<text x="{left + j * cell_w + cell_w / 2 - 1}" y="{y + 14}" font-size="9" '
                    f'text-anchor="middle"{ink}>{_fmt(v)}</text>'
                )
    parts.append("</svg>")
    return "".join(parts)


def paired_bars(labels: Sequence[str], ref: Sequence[float], cur: Sequence[float]) -> str:
    """Reference (grey) and current (blue) share per bin or category."""
    n = max(1, len(labels))
    width, height, left, bottom = 460, 170, 36, 46
    slot = (width - left - 10) / n
    top = max([*ref, *cur, 1e-9])
    scale = (height - bottom - 10) / top
    parts = [f'<svg class="chart" width="{width}" height="{height}" role="img">']
    for k in (0.0, 0.5, 1.0):
        y = height - bottom - top * k * scale
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y}" y2="{y}" stroke="#e5e5e5"/>'
            f'<text x="{left - 4}" y="{y + 3}" font-size="9" text-anchor="end">'
            f"{top * k:.0%}</text>"
        )
    for i, label in enumerate(labels):
        x = left + i * slot
        for j, (series, color) in enumerate(((ref, REF), (cur, CUR))):
            v = series[i] if i < len(series) else 0.0
            h = v * scale
            parts.append(
                f'<rect x="{x + 1 + j * slot * 0.45}" y="{height - bottom - h}" '
                f'width="{slot * 0.43}" height="{h}" fill="{color}">'
                f"<title>{escape(label)}: {'reference' if j == 0 else 'current'} {v:.1%}"
                f"</title></rect>"
            )
        parts.append(
            f'<text x="{x + slot / 2}" y="{height - bottom + 10}" font-size="8" '
            f'text-anchor="end" transform="rotate(-40 {x + slot / 2} {height - bottom + 10})">'
            f"{escape(label[:14])}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def line_chart(
    xs: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    rules: Mapping[str, float] | None = None,
    width: int = 640,
    height: int = 220,
) -> str:
    """One line per series over the windows; dashed horizontal lines for thresholds."""
    left, bottom, right, top_pad = 48, 40, 130, 10
    values = [v for s in series.values() for v in s if v is not None] + list((rules or {}).values())
    hi = max(values) if values else 1.0
    lo = min(0.0, min(values)) if values else 0.0
    span = (hi - lo) or 1.0
    n = max(1, len(xs) - 1)

    def px(i: int) -> float:
        return left + (width - left - right) * (i / n if len(xs) > 1 else 0.5)

    def py(v: float) -> float:
        return height - bottom - (height - bottom - top_pad) * (v - lo) / span

    parts = [f'<svg class="chart" width="{width}" height="{height}" role="img">']
    for k in range(5):
        v = lo + span * k / 4
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{py(v)}" y2="{py(v)}" stroke="#eee"/>'
            f'<text x="{left - 4}" y="{py(v) + 3}" font-size="9" text-anchor="end">{_fmt(v)}'
            "</text>"
        )
    for name, v in (rules or {}).items():
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{py(v)}" y2="{py(v)}" '
            f'stroke="#d62728" stroke-dasharray="4 3"/><text x="{width - right + 4}" '
            f'y="{py(v) + 3}" font-size="9" fill="#d62728">{escape(name)}</text>'
        )
    for k, (name, s) in enumerate(series.items()):
        color = PALETTE[k % len(PALETTE)]
        pts = [(px(i), py(v)) for i, v in enumerate(s) if v is not None]
        if len(pts) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{color}"/>')
        for (x, y), v in zip(pts, [v for v in s if v is not None], strict=True):
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{color}">'
                f"<title>{escape(name)}: {_fmt(v)}</title></circle>"
            )
        parts.append(
            f'<text x="{width - right + 4}" y="{top_pad + 12 * (k + 1)}" font-size="10" '
            f'fill="{color}">{escape(name)}</text>'
        )
    step = max(1, len(xs) // 8)
    for i in range(0, len(xs), step):
        parts.append(
            f'<text x="{px(i)}" y="{height - bottom + 14}" font-size="9" text-anchor="middle">'
            f"{escape(xs[i])}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


__all__ = ["heatmap", "line_chart", "paired_bars"]
