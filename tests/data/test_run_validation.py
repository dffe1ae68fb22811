"""`run.log_dataset(..., contract=...)`: the report is kept as evidence, then the step fails."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import loopline as ll
from loopline.data import Column, Contract, RowCountTrend, ValidationFailedError, validate
from loopline.store import open_artifact_store, open_metadata_store

CONTRACT = Contract(name="orders", columns={"amount": Column(dtype="float", min=0)})


def test_passing_dataset_gets_report_artifact_tag_and_version() -> None:
    df = pd.DataFrame({"amount": [1.0, 2.0]})
    with ll.start_run(experiment="v") as run:
        record = run.log_dataset(df, name="orders", contract=CONTRACT)
    meta = open_metadata_store()
    stored = meta.get_run(run.id)
    assert stored.tags["validation.orders"] == "passed"
    artifact = meta.get_artifact(run.id, "validation/orders.json")
    assert artifact.kind == "validation"
    assert artifact.meta == {
        "passed": True,
        "verdict": "passed",
        "failed_rules": [],
        "quarantined_rows": 0,
        "contract": "orders",
    }
    report = json.loads(open_artifact_store().get_bytes(artifact.sha256))
    assert report["fingerprint"] == record.fingerprint
    assert [d.fingerprint for d in meta.list_datasets("orders")] == [record.fingerprint]


def test_failing_dataset_is_recorded_then_raises_and_is_not_a_version(tmp_path: Path) -> None:
    path = tmp_path / "orders.yaml"
    CONTRACT.save(path)
    df = pd.DataFrame({"amount": [1.0, -5.0]})
    with pytest.raises(ValidationFailedError) as info, ll.start_run(experiment="v") as run:
        run.log_dataset(df, name="orders", contract=path)
    assert "column 'amount' failed rule 'range'" in info.value.one_line()
    meta = open_metadata_store()
    stored = meta.get_run(run.id)
    assert stored.status == "failed"
    assert stored.tags["validation.orders"] == "failed"
    artifact = meta.get_artifact(run.id, "validation/orders.json")
    assert artifact.meta["failed_rules"] == ["amount.range"]
    assert meta.list_datasets("orders") == []  # a rejected batch is not an accepted version


def test_trend_uses_accepted_batches_only() -> None:
    trend = Contract(name="feed", row_count_trend=RowCountTrend(window=5, min_batches=2))
    for rows in (100, 102):
        with ll.start_run(experiment="v") as run:
            run.log_dataset(pd.DataFrame({"a": range(rows)}), name="feed", contract=trend)
    with pytest.raises(ValidationFailedError, match="row_count_trend"), ll.start_run() as run:
        run.log_dataset(pd.DataFrame({"a": range(10)}), name="feed", contract=trend)
    with ll.start_run(experiment="v") as run:
        run.log_dataset(pd.DataFrame({"a": range(99)}), name="feed", contract=trend)
    # ll.validate reads the same history from the store, by the contract's name.
    assert validate(pd.DataFrame({"a": range(101)}), trend).verdict == "passed"
    assert validate(pd.DataFrame({"a": range(300)}), trend).verdict == "failed"


def test_quarantined_dataset_still_registers() -> None:
    contract = CONTRACT.with_severity("quarantine")
    with ll.start_run(experiment="v") as run:
        run.log_dataset(pd.DataFrame({"amount": [1.0, -1.0]}), name="orders", contract=contract)
    meta = open_metadata_store()
    assert meta.get_run(run.id).tags["validation.orders"] == "quarantined"
    assert len(meta.list_datasets("orders")) == 1
