"""The model page: versions, aliases, gates, approvals, lineage and history."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from loopline.errors import NotFoundError
from loopline.server.ui import _charts as charts
from loopline.server.ui._graph import GEdge, GNode, layered
from loopline.server.ui._views._common import _thin
from loopline.store import Deployment, MetadataStore, ModelVersion

VERSIONS_PER_PAGE = 20
TIMELINE_ROWS = 40
PROTECTED_FIRST = ("production", "staging", "champion", "challenger")


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
    model = store.get_model(name)
    # Every version, oldest first: the page count and the metric chart span them all.
    versions = list(reversed(store.list_versions(name, limit=None)))
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
