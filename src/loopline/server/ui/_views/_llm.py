"""The LLM pages: prompts (registry versions of flavor `prompt`) with their evaluations and
gate decisions, and the request traces `PromptClient` writes (cost, latency, tokens,
feedback), read through `loopline.llm.TraceLog` (docs/llmops.md)."""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from loopline.errors import NotFoundError
from loopline.store import MetadataStore, ModelVersion

PROMPT_FLAVOR = "prompt"
PROMPTS_SHOWN = 20
VERSIONS_SHOWN = 10  # per prompt, newest first
# The evaluation metrics a prompt's table shows (docs/llmops.md lists them all).
EVAL_METRICS = ("pass_rate", "n_cases", "cost_per_case_usd", "latency_p95_ms", "judge_score_mean")
TRACE_DAYS = 7  # the traces page reads this many days back
TRACES_PER_PAGE = 50
TRACE_STATUSES = ("ok", "error", "blocked")


def _version_row(store: MetadataStore, v: ModelVersion) -> dict[str, Any]:
    evaluations = store.list_evaluations(v.model, v.version)
    latest = evaluations[-1] if evaluations else None
    try:
        params = store.get_run(v.run_id).params
    except NotFoundError:
        params = {}
    decisions: dict[str, Any] = {}
    for d in store.list_gate_decisions(v.model, v.version):
        decisions[d.alias] = d  # oldest first: the last one per alias wins
    return {
        "v": v,
        "description": str(v.card.get("intended_use") or ""),
        "model": params.get("model") or "",
        "variables": [x for x in (params.get("variables") or "").split(",") if x],
        "evaluation": latest,
        "n_evaluations": len(evaluations),
        "metrics": {k: latest.metrics.get(k) for k in EVAL_METRICS} if latest else {},
        "decisions": sorted(decisions.values(), key=lambda d: d.alias),
    }


def prompts_page(store: MetadataStore) -> dict[str, Any]:
    prompts = []
    for m in sorted(store.list_models(), key=lambda m: m.name):
        newest = store.list_versions(m.name, limit=VERSIONS_SHOWN)
        if not newest or newest[0].flavor != PROMPT_FLAVOR:
            continue
        prompts.append(
            {
                "model": m,
                "aliases": sorted(m.aliases.items()),
                "versions": [_version_row(store, v) for v in newest],
                "more": (m.latest_version or 0) > len(newest),
            }
        )
        if len(prompts) >= PROMPTS_SHOWN:
            break
    return {"prompts": prompts, "metrics": EVAL_METRICS}


def _per_version(traces: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from loopline.llm import summarize

    groups: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for t in traces:
        groups[(str(t.get("prompt")), int(t.get("version") or 0))].append(t)
    return [
        {"prompt": p, "version": v, **summarize(rows)} for (p, v), rows in sorted(groups.items())
    ]


_YEAR_10000 = 253_402_300_800.0


def _cursor(raw: str | None) -> tuple[float, str] | None:
    """The `before` of a traces URL, `<ts>_<request id>` (None when absent or malformed:
    the newest page)."""
    ts, sep, request_id = (raw or "")[:300].partition("_")
    try:
        value = float(ts)
    except ValueError:
        return None
    # A trace's time is a Unix timestamp before the year 10000; beyond that no clock can
    # name its day (gmtime overflows), so such a cursor is malformed too.
    return (value, request_id) if sep and 0 <= value < _YEAR_10000 else None


def traces_page(
    folder: Path | None, prompt: str | None, status: str | None, before: str | None
) -> dict[str, Any]:
    """One page of the last `TRACE_DAYS` days of traces, newest first, below the cursor
    `before` (the previous page's `older`), with totals over the page per prompt version.
    Files are read newest first until the page and one more trace (so an older page is
    known to exist) are found."""
    from loopline.llm import TraceLog, summarize

    cursor = _cursor(before)
    since = time.time() - TRACE_DAYS * 86_400
    log = TraceLog(folder) if folder is not None and folder.is_dir() else None
    found = (
        log.newest(TRACES_PER_PAGE + 1, prompt=prompt, status=status, since=since, before=cursor)
        if log is not None
        else []
    )
    shown = found[:TRACES_PER_PAGE]
    last = shown[-1] if len(found) > TRACES_PER_PAGE else None
    return {
        "days": TRACE_DAYS,
        "prompts": log.prompts(since) if log is not None else [],
        "statuses": TRACE_STATUSES,
        "filters": {"prompt": prompt or "", "status": status or ""},
        "summary": summarize(shown) if shown else None,
        "by_version": _per_version(shown),
        "traces": shown,
        "before": cursor is not None,
        "older": f"{last['ts']!r}_{last['request_id']}" if last is not None else None,
    }


__all__ = ["prompts_page", "traces_page"]
