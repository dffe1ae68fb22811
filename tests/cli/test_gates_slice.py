"""`loopline models gate … --slice COL` (issue 20): the README's canary clears its challenger
with the same gate as `models promote`, whose `slice_gap.*` rules need slice columns."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from loopline.gates import promote
from loopline.store import ModelVersion, open_metadata_store
from tests.conftest import run_cli

POLICY = "name: prod\nrules:\n  - auc >= 0.5\n  - slice_gap.auc <= 0.5\n"


def test_gate_evaluates_slices_and_records_the_decision(
    train_version: Callable[..., ModelVersion], holdout: Path
) -> None:
    train_version(), train_version()
    promote("churn", 1, "production")
    policy = holdout.parent / "gate.yaml"
    policy.write_text(POLICY)
    done = run_cli("models", "gate", "churn", "2", "production", "--policy", str(policy),
                   "--data", str(holdout), "--target", "label", "--slice", "segment",
                   "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    decided = json.loads(done.stdout)
    assert decided["passed"] is True
    record = open_metadata_store().list_gate_decisions("churn", 2)[-1]
    gap = next(r for r in record.rules if r["rule"] == "slice_gap.auc <= 0.5")
    assert gap["verdict"] == "pass" and 0 <= gap["value"] <= 0.5
    assert open_metadata_store().get_version_by_alias("churn", "production").version == 1


def test_gate_without_the_slice_a_rule_needs_says_which_option(
    train_version: Callable[..., ModelVersion], holdout: Path
) -> None:
    train_version(), train_version()
    promote("churn", 1, "production")
    policy = holdout.parent / "gate.yaml"
    policy.write_text(POLICY)
    done = run_cli("models", "gate", "churn", "2", "production", "--policy", str(policy),
                   "--data", str(holdout), "--target", "label")  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert "slice_gap.auc" in done.stderr and "--slice" in done.stderr
