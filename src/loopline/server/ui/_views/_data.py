"""The data page: dataset versions, each with the validation result of its data contract.

A validation is recorded where `log_dataset(..., contract=...)` and the pipelines' validate
step leave it: the report as the run artifact `validation/<name>.json` (its verdict, failed
rules and contract in the artifact's meta), the run tagged `validation.<name>`. A batch
whose `error` rule failed is not registered as a dataset version, so those batches are
listed apart, from the runs' tags.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from loopline.store import Artifact, ArtifactStore, Dataset, MetadataStore

log = logging.getLogger("loopline.server.ui")
VERSIONS_PER_PAGE = 25
REJECTED_SHOWN = 10  # failed batches listed per dataset name
REJECTED_NAMES = 20  # dataset names (of the page's versions) whose failed batches are listed
RULES_SHOWN = 8  # failed rules listed per validation (the report holds all of them)


def _validation_of(store: MetadataStore, ds: Dataset) -> Artifact | None:
    """The newest validation report recorded for this exact data (by fingerprint)."""
    runs = [
        e.dst_id
        for e in store.lineage_edges("dataset", ds.fingerprint)
        if e.src_kind == "dataset" and e.dst_kind == "run"
    ]
    for run_id in reversed(runs):
        for art in store.list_artifacts(run_id):
            if art.kind == "validation" and art.path == f"validation/{ds.name}.json":
                return art
    return None


def _failed_rules(artifacts: ArtifactStore | None, art: Artifact) -> list[dict[str, Any]]:
    """The failed rules of a report, each as one line (read from the report itself, whose
    bytes the artifact store verifies against their sha256)."""
    ids = list(art.meta.get("failed_rules") or [])
    if not ids:
        return []
    if artifacts is not None:
        try:
            report = json.loads(artifacts.get_bytes(art.sha256))
            failed = [r for r in report.get("rules", []) if r.get("status") == "failed"]
            return [
                {
                    "id": r.get("id"),
                    "column": r.get("column"),
                    "severity": r.get("severity"),
                    "message": r.get("message") or r.get("expectation") or "",
                    "count": r.get("failing_count"),
                }
                for r in failed[:RULES_SHOWN]
            ]
        except Exception as exc:  # the list still shows the verdict from the meta
            log.info("validation report %s not read: %r", art.sha256[:12], exc)
    return [{"id": i, "column": None, "severity": None, "message": "", "count": None} for i in ids]


def _version_row(
    store: MetadataStore, artifacts: ArtifactStore | None, ds: Dataset
) -> dict[str, Any]:
    art = _validation_of(store, ds)
    meta = art.meta if art is not None else {}
    return {
        "ds": ds,
        "verdict": meta.get("verdict") if art is not None else None,
        "contract": meta.get("contract"),
        "quarantined": meta.get("quarantined_rows") or 0,
        "failed": _failed_rules(artifacts, art) if art is not None else [],
        "run_id": art.run_id if art is not None else None,
        "validated_at": art.created_at if art is not None else None,
    }


def _rejected(
    store: MetadataStore, artifacts: ArtifactStore | None, names: list[str]
) -> list[dict[str, Any]]:
    """The newest runs whose validation of a dataset failed, each with the rules it broke."""
    out = []
    for name in names:
        for run in store.list_runs(tag=[f"validation.{name}=failed"], limit=REJECTED_SHOWN):
            report = next(
                (
                    a
                    for a in store.list_artifacts(run.id)
                    if a.kind == "validation" and a.path == f"validation/{name}.json"
                ),
                None,
            )
            failed = _failed_rules(artifacts, report) if report is not None else []
            out.append({"name": name, "run": run, "failed": failed})
    return out


def data_page(
    store: MetadataStore,
    artifacts: ArtifactStore | None,
    name: str | None,
    before: int | None,
) -> dict[str, Any]:
    """One page of dataset versions, newest first, below the version id `before`: one
    bounded read (a page and one more row, to know whether an older page exists)."""
    found = store.list_datasets(name, limit=VERSIONS_PER_PAGE + 1, before=before or None)
    shown = found[:VERSIONS_PER_PAGE]
    names = sorted({d.name for d in shown} | ({name} if name else set()))
    return {
        "names": names,  # a datalist for the filter: the names this page shows
        "name": name or "",
        "rows": [_version_row(store, artifacts, d) for d in shown],
        "rejected": _rejected(store, artifacts, [name] if name else names[:REJECTED_NAMES]),
        "before": before or None,
        "older": shown[-1].id if len(found) > VERSIONS_PER_PAGE else None,
    }


__all__ = ["data_page"]
