"""A rollout toward a protected alias whose gate needs evidence the challenger lacks (issue 20:
"metric 'latency_p95_ms' is unknown" with no word on what to do) says how to get it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

import loopline as ll
from loopline.errors import InvalidInputError
from loopline.serving import deploy
from loopline.store import ModelVersion, open_metadata_store


def test_a_rollout_the_gate_cannot_decide_names_the_evaluation_to_run(
    train_version: Callable[..., ModelVersion],
    churn_like: tuple[pd.DataFrame, pd.Series],
    tmp_path: Path,
) -> None:
    X, y = churn_like
    holdout = X[["a", "b"]].iloc[600:].assign(label=y.iloc[600:])
    gate = tmp_path / "gate.yaml"
    gate.write_text("name: production\nrules:\n  - latency_p95_ms <= 10000\n")
    v1 = train_version()
    assert ll.promote(
        "churn", v1.version, alias="production", policy=gate, data=holdout, target="label"
    ).promoted
    v2 = train_version()  # registered, never evaluated: no latency on record
    with pytest.raises(InvalidInputError) as caught:
        deploy("churn", v2.version, strategy="canary", steps=[5, 25, 100])
    assert "latency_p95_ms" in caught.value.message
    assert caught.value.hint == (
        f"evaluate it first: loopline models gate churn {v2.version} production "
        "--data HOLDOUT --target LABEL"
    )
    assert open_metadata_store().active_deployment("churn") is None  # nothing started


def test_the_store_names_the_evaluation_on_every_path_and_a_close_misspelling(
    train_version: Callable[..., ModelVersion],
    churn_like: tuple[pd.DataFrame, pd.Series],
    tmp_path: Path,
) -> None:
    # The hint comes from the store's gate, so promote (and REST, the UI) get it too.
    X, y = churn_like
    holdout = X[["a", "b"]].iloc[600:].assign(label=y.iloc[600:])
    gate = tmp_path / "gate.yaml"
    gate.write_text("name: production\nrules:\n  - latency_p95_ms <= 10000\n")
    v1 = train_version()
    ll.promote("churn", v1.version, alias="production", policy=gate, data=holdout, target="label")
    v2 = train_version()
    with pytest.raises(InvalidInputError) as missing:
        ll.promote("churn", v2.version, alias="production")
    assert missing.value.hint.startswith(
        f"evaluate it first: loopline models gate churn {v2.version}"
    )
    assert missing.value.details == {"metric": "latency_p95_ms", "of": "candidate"}
    typo = ll.GatePolicy(rules=("aucc >= 0.5",))
    with pytest.raises(InvalidInputError) as misspelled:
        ll.promote("churn", v2.version, alias="staging", policy=typo, data=holdout, target="label")
    assert misspelled.value.hint == "did you mean 'auc'? fix the rule"
    assert open_metadata_store().list_gate_decisions("churn", v2.version) == []  # none recorded
