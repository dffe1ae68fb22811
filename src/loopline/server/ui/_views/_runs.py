"""The runs table, a run's page and the comparison of runs."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from loopline.errors import InvalidInputError, NotFoundError
from loopline.server.ui import _charts as charts
from loopline.server.ui._views._common import _thin
from loopline.store import RUN_STATUSES, MetadataStore, Run

RUNS_PER_PAGE = 50
MAX_COMPARE = 10


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
                sort=sort or None,
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
