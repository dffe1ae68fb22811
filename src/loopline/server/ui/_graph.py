"""Small layered graphs drawn as inline SVG on the server: the lineage of a version
(data → run → version → deployment) and, when Graphviz is not installed, the pipeline
diagram. Nodes with a link are SVG `<a>` elements, so they are reachable with Tab."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

KIND_FILL = {
    "dataset": "#e0f2fe",
    "run": "#ede9fe",
    "version": "#dcfce7",
    "alias": "#fef3c7",
    "deployment": "#fce7f3",
    "step": "#f3f4f6",
    "gate": "#fef3c7",
    "approval": "#fde68a",
    "env": "#dcfce7",
    "trigger": "#e0f2fe",
    "start": "#ede9fe",
    "end": "#f3f4f6",
}
EDGE_COLOR = {"reject": "#dc2626", "rollback": "#dc2626", "trigger": "#2563eb"}


@dataclass(frozen=True)
class GNode:
    id: str
    label: str
    kind: str
    sub: str = ""
    href: str | None = None
    fill: str | None = None


@dataclass(frozen=True)
class GEdge:
    src: str
    dst: str
    label: str = ""
    style: str = "flow"


def _node_svg(node: GNode, x: float, y: float, node_w: int, node_h: int) -> str:
    """One box: its label and a second line; a link when the node has somewhere to go."""
    # A colour can come from a pipeline spec: escaped like every other text here.
    fill = escape(node.fill or KIND_FILL.get(node.kind, "#f3f4f6"))
    shape = (
        f'<rect x="{x:.0f}" y="{y:.0f}" width="{node_w}" height="{node_h}" rx="6" '
        f'fill="{fill}" stroke="#64748b"/>'
    )
    label, sub = node.label[:26], node.sub[:30]
    text = (
        f'<text x="{x + 8:.0f}" y="{y + 17:.0f}" class="node-label">{escape(label)}</text>'
        # The leading space is not drawn (SVG collapses it) but separates the two lines in
        # the link's text, which its name must contain (below).
        f'<text x="{x + 8:.0f}" y="{y + 33:.0f}" class="node-sub"> {escape(sub)}</text>'
    )
    tip = f"<title>{escape(node.kind)}: {escape(node.label)} {escape(node.sub)}</title>"
    if not node.href:
        return f'<g class="node">{tip}{shape}{text}</g>'
    # The link's name holds the text it shows, in order (WCAG 2.5.3, "label in name"): a
    # voice user says what they see; the whole text is in the tooltip.
    return (
        f'<a href="{escape(node.href)}" class="node" '
        f'aria-label="{escape(node.kind)}: {escape(label)} {escape(sub)}">{tip}{shape}{text}</a>'
    )


def layered(
    columns: Sequence[Sequence[GNode]],
    edges: Sequence[GEdge],
    *,
    title: str,
    node_w: int = 170,
    node_h: int = 44,
    gap_x: int = 60,
    gap_y: int = 14,
) -> str:
    """Columns left to right, nodes stacked in each; straight-ish curves between them."""
    pos: dict[str, tuple[float, float]] = {}
    tallest = max((len(c) for c in columns), default=1)
    height = max(1, tallest) * (node_h + gap_y) + gap_y + 8
    width = len(columns) * (node_w + gap_x) - gap_x + 16
    for i, col in enumerate(columns):
        top = (height - len(col) * (node_h + gap_y) + gap_y) / 2
        for j, node in enumerate(col):
            pos[node.id] = (8 + i * (node_w + gap_x), top + j * (node_h + gap_y))
    parts = [
        f'<svg class="graph" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="group" aria-label="{escape(title)}">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#64748b"/></marker></defs>',
    ]
    for e in edges:
        if e.src not in pos or e.dst not in pos:
            continue
        (x1, y1), (x2, y2) = pos[e.src], pos[e.dst]
        color = EDGE_COLOR.get(e.style, "#64748b")
        dash = ' stroke-dasharray="5 4"' if e.style in ("reject", "rollback", "feedback") else ""
        if x2 > x1:
            sx, sy, tx, ty = x1 + node_w, y1 + node_h / 2, x2, y2 + node_h / 2
            mid = (sx + tx) / 2
            d = f"M{sx:.0f},{sy:.0f} C{mid:.0f},{sy:.0f} {mid:.0f},{ty:.0f} {tx - 2:.0f},{ty:.0f}"
        else:  # a path back (rollback, feedback): arc over the top
            sx, sy, tx, ty = x1 + node_w / 2, y1, x2 + node_w / 2, y2
            d = (
                f"M{sx:.0f},{sy:.0f} C{sx:.0f},{sy - 40:.0f} "
                f"{tx:.0f},{ty - 40:.0f} {tx:.0f},{ty:.0f}"
            )
        parts.append(
            f'<path d="{d}" fill="none" stroke="{color}" stroke-width="1.4"{dash} '
            f'marker-end="url(#arrow)"><title>{escape(e.label or e.style)}</title></path>'
        )
        if e.label:
            lx, ly = (x1 + node_w + x2) / 2, (y1 + y2) / 2 + node_h / 2 - 4
            parts.append(
                f'<text x="{lx:.0f}" y="{ly:.0f}" class="edge-label" text-anchor="middle">'
                f"{escape(e.label[:22])}</text>"
            )
    for col in columns:
        for node in col:
            parts.append(_node_svg(node, *pos[node.id], node_w, node_h))
    parts.append("</svg>")
    return "".join(parts)


def layers_by_longest_path(
    nodes: Sequence[GNode], edges: Sequence[GEdge], back_styles: Sequence[str]
) -> list[list[GNode]]:
    """Columns for a DAG (edges of `back_styles` ignored for the layout)."""
    forward = [e for e in edges if e.style not in back_styles]
    depth = {n.id: 0 for n in nodes}
    for _ in range(len(nodes)):
        changed = False
        for e in forward:
            if e.src in depth and e.dst in depth and depth[e.dst] < depth[e.src] + 1:
                depth[e.dst] = depth[e.src] + 1
                changed = True
        if not changed:
            break
    columns: list[list[GNode]] = [[] for _ in range(max(depth.values(), default=0) + 1)]
    for n in nodes:
        columns[depth[n.id]].append(n)
    return [c for c in columns if c]


__all__ = ["GEdge", "GNode", "layered", "layers_by_longest_path"]
