"""Evaluation by slice, end to end: the CLI and `ll.promote` compute per-slice metrics and
`slice_gap.*`, and a gate rule on the gap decides a promotion (issue 16)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import loopline as ll
from loopline.store import ModelVersion, open_metadata_store
from tests.conftest import run_cli


def test_cli_evaluate_with_a_slice_stores_slice_metrics_and_gaps(
    train_version: Callable[..., ModelVersion], holdout: Path
) -> None:
    """Finding: `loopline models evaluate ... --slice contract` ended in `RuntimeError:
    dictionary changed size during iteration` (exit 1)."""
    train_version()
    out = run_cli(
        "models", "evaluate", "models:/churn/1", "--data", str(holdout),
        "--target", "label", "--slice", "segment", "--json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    [result] = json.loads(out.stdout)
    assert set(result["slices"]["segment"]) == {"north", "south"}
    north, south = (result["slices"]["segment"][k]["auc"] for k in ("north", "south"))
    assert result["metrics"]["slice_gap.auc"] == abs(north - south)
    stored = open_metadata_store().list_evaluations("churn", 1)[-1]
    assert stored.metrics["slice_gap.auc"] == result["metrics"]["slice_gap.auc"]


def test_a_slice_gap_rule_decides_a_promotion(
    train_version: Callable[..., ModelVersion], holdout: Path
) -> None:
    """Finding: README's `slice_gap.auc <= 0.05` rule could never be used."""
    train_version()
    strict = ll.GatePolicy(name="fair", rules=("slice_gap.auc <= 0",))
    refused = ll.promote(
        "churn", 1, "production", policy=strict, data=holdout, target="label", slices=["segment"]
    )
    assert not refused.promoted
    assert [r.rule for r in refused.decision.failures] == ["slice_gap.auc <= 0"]
    lenient = ll.GatePolicy(name="fair", rules=("slice_gap.auc <= 0.5",))
    assert ll.promote(
        "churn", 1, "production", policy=lenient, data=holdout, target="label", slices=["segment"]
    ).promoted


def test_promote_with_data_and_an_unknown_metric_writes_nothing(
    train_version: Callable[..., ModelVersion], holdout: Path
) -> None:
    """Issue 16: a promote with --data and a policy naming an unknown metric wrote evaluations
    before refusing, though a refused call writes nothing."""
    import pytest

    from loopline.errors import InvalidInputError

    train_version()
    store = open_metadata_store()
    before = (len(store.list_audit_events()), store.list_evaluations("churn", 1))
    with pytest.raises(InvalidInputError, match="metric 'aucc' is unknown"):
        ll.promote(
            "churn", 1, "production", policy=ll.GatePolicy(rules=("aucc >= 0.8",)),
            data=holdout, target="label",
        )  # fmt: skip
    assert (len(store.list_audit_events()), store.list_evaluations("churn", 1)) == before


def test_lineage_lists_the_deployments_that_served_a_version(
    train_version: Callable[..., ModelVersion],
) -> None:
    """Issue 16: `ll.lineage(...)` returned `deployments: []` always (hard-coded)."""
    from loopline.serving import deploy

    v1, v2 = train_version(), train_version()
    assert ll.promote("churn", v1.version, "production").promoted
    d = deploy("churn", v2.version, strategy="shadow")
    [served] = ll.lineage("models:/churn/2")["deployments"]
    assert (served["id"], served["arm"], served["strategy"]) == (d.id, "challenger", "shadow")
    assert ll.lineage("models:/churn/1")["deployments"][0]["arm"] == "champion"


def test_evaluate_with_labels_of_another_encoding_is_one_line_exit_2(
    train_version: Callable[..., ModelVersion], holdout: Path, tmp_path: Path
) -> None:
    """Finding (issue 20): `models evaluate` on 'Yes'/'No' labels for a 0/1 model crashed
    with sklearn's "Mix of label input types" (exit 1, a traceback)."""
    import pandas as pd

    train_version()
    frame = pd.read_parquet(holdout)
    frame["label"] = frame["label"].map({0: "No", 1: "Yes"})
    text_labels = tmp_path / "text_labels.parquet"
    frame.to_parquet(text_labels)
    out = run_cli(
        "models", "evaluate", "models:/churn/1", "--data", str(text_labels), "--target", "label"
    )
    assert out.returncode == 2, out.stderr
    assert "target column 'label' holds 'No', 'Yes' but the model predicts 0, 1" in out.stderr
    assert "Traceback" not in out.stderr
    assert open_metadata_store().list_evaluations("churn", 1) == []
