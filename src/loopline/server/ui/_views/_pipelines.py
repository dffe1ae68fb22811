"""The pipelines page: pipeline runs by pipeline, with each pipeline's diagram."""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

from loopline.errors import LooplineError
from loopline.server.ui._graph import GEdge, GNode, layered, layers_by_longest_path
from loopline.store import MetadataStore, Run

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
