"""The pipelines page: pipeline runs by pipeline, with each pipeline's diagram.

The diagram is drawn only from the spec a pipeline run recorded in the artifact store (the
run artifact `pipeline/loopline.yaml`, addressed and verified by sha256) — never from a
path named by a tag or a record, which anyone who may write runs could point at any file
the server can read. The spec is read with the YAML reader's budget, within a size limit,
and parsed for display only: a gate policy the spec names by file path is shown by name,
not opened. A spec that cannot be drawn shows the steps the runs recorded instead.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict, defaultdict
from pathlib import PurePosixPath
from typing import Any

from loopline._yaml import load_marked
from loopline.errors import InvalidInputError, LooplineError
from loopline.server.ui._graph import GEdge, GNode, layered, layers_by_longest_path
from loopline.store import ArtifactStore, MetadataStore, Run

log = logging.getLogger("loopline.server.ui")

SPEC_ARTIFACT = "pipeline/loopline.yaml"  # where a pipeline run records its spec
MAX_SPEC_BYTES = 256 * 1024  # a spec is a page of YAML; anything bigger is not drawn
MAX_STEPS = 200  # the layered drawing is quadratic in the graph's size
_CACHE_SIZE = 128


class _Diagrams:
    """Drawn diagrams by the spec's sha256 (content-addressed: never stale), bounded."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, str | None] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, sha256: str) -> tuple[bool, str | None]:
        with self._lock:
            if sha256 not in self._items:
                return False, None
            self._items.move_to_end(sha256)
            return True, self._items[sha256]

    def put(self, sha256: str, svg: str | None) -> None:
        with self._lock:
            self._items[sha256] = svg
            while len(self._items) > _CACHE_SIZE:
                self._items.popitem(last=False)


_DIAGRAMS = _Diagrams()


def _detached_spec(text: str, source: str) -> Any:
    """The spec for drawing only: budgeted YAML, and no file the spec names is opened (a
    gate policy given as a path becomes a policy of that name with its rules not shown)."""
    from loopline.pipelines import PipelineSpec

    data, _ = load_marked(text, source, InvalidInputError, "see docs/pipelines.md")
    if not isinstance(data, dict):
        raise InvalidInputError(f"{source}: a pipeline is a mapping", hint="see docs/pipelines.md")
    steps = data.get("steps")
    if isinstance(steps, dict) and len(steps) > MAX_STEPS:
        raise InvalidInputError(f"{source}: more than {MAX_STEPS} steps", hint="not drawn")
    envs = data.get("environments")
    if isinstance(envs, dict):
        data = {
            **data,
            "environments": {
                name: (
                    {**env, "policy": {"name": f"{PurePosixPath(env['policy']).name} (file)"}}
                    if isinstance(env, dict) and isinstance(env.get("policy"), str)
                    else env
                )
                for name, env in envs.items()
            },
        }
    data.pop("root", None)
    return PipelineSpec.model_validate({**data, "source": source, "root": "/nonexistent"})


def _draw(text: str, source: str) -> str:
    from loopline.pipelines import diagram_graph

    spec = _detached_spec(text, source)
    d = diagram_graph(spec)
    nodes = []
    for n in d.nodes:
        label = n.label.replace(" (file)<br/>0 rules", "<br/>rules in its file")
        head, _, sub = label.partition("<br/>")
        nodes.append(GNode(n.id, head, n.shape, sub=sub.replace("<br/>", " "), fill=n.color))
    edges = [GEdge(e.src, e.dst, e.label, e.style) for e in d.edges]
    cols = layers_by_longest_path(nodes, edges, ("reject", "rollback", "feedback"))
    return layered(cols, edges, title=d.title, node_w=150, gap_x=40)


def pipeline_diagram(
    store: MetadataStore, artifacts: ArtifactStore | None, runs: list[Run]
) -> str | None:
    """The diagram (inline SVG) of the spec the newest of `runs` recorded, or None."""
    if artifacts is None:
        return None
    for run in runs[:3]:
        try:
            art = store.get_artifact(run.id, SPEC_ARTIFACT)
        except LooplineError:
            continue
        found, svg = _DIAGRAMS.get(art.sha256)
        if found:
            return svg
        svg = None
        if 0 < art.size <= MAX_SPEC_BYTES:
            try:
                data = artifacts.get_bytes(art.sha256)  # verified against its sha256
                if len(data) <= MAX_SPEC_BYTES:
                    svg = _draw(data.decode("utf-8"), f"{SPEC_ARTIFACT} @ {art.sha256[:12]}")
            except Exception as exc:  # a spec anyone could record: never the page's failure
                log.info("pipeline spec %s not drawn: %s", art.sha256[:12], exc)
        _DIAGRAMS.put(art.sha256, svg)
        return svg
    return None


def pipelines_page(store: MetadataStore, artifacts: ArtifactStore | None = None) -> dict[str, Any]:
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
                "file": file,  # shown as text only, never opened
                "diagram": pipeline_diagram(store, artifacts, rs),
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
    return {"pipelines": pipelines, "spec_artifact": SPEC_ARTIFACT}
