"""Validation as part of a run's record: the report becomes an artifact and a tag.

A batch counts as *accepted* when it is registered as a dataset version, which happens only
after it passed (or only warned or quarantined). The row-count trend rule reads the row
counts of those versions, so a rejected batch never drags the rolling average.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pandas as pd

from loopline.data._contract import Contract, load_contract
from loopline.data._report import ValidationReport
from loopline.data._validate import validate

if TYPE_CHECKING:
    from loopline.store import ArtifactStore, MetadataStore


def validate_for_run(
    df: pd.DataFrame,
    contract: Contract | str | os.PathLike[str],
    name: str,
    fingerprint: str,
    run_id: str,
    store: MetadataStore,
    artifacts: ArtifactStore,
) -> ValidationReport:
    """Validate, store the report as `validation/<name>.json`, tag the run, then raise if an
    `error` rule failed (so the evidence is kept even when the step stops)."""
    spec = load_contract(contract)
    history = [
        d.n_rows for d in store.list_datasets(name, limit=None) if d.fingerprint != fingerprint
    ]
    report = validate(df, spec, history=history)
    report.fingerprint = fingerprint
    digest, size = artifacts.put_bytes(report.to_json().encode())
    store.record_artifact(
        run_id,
        f"validation/{name}.json",
        "validation",
        digest,
        size,
        meta={
            "passed": report.passed,
            "verdict": report.verdict,
            "failed_rules": [r.id for r in report.failures],
            "quarantined_rows": report.quarantined_rows,
            "contract": report.contract,
        },
    )
    store.set_tags(run_id, {f"validation.{name}": report.verdict})
    report.raise_for_errors(name)
    return report


__all__ = ["validate_for_run"]
