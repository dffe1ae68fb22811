"""The churn example (examples/churn/loopline.yaml) on the real IBM telco data: simulated
weeks of new data give promoted and rejected retrains, each with its reason on record."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from loopline.cli import app
from loopline.pipelines import load_pipeline, pr_report, run_pipeline
from loopline.pipelines._code import resolve_function
from loopline.store import open_metadata_store

CHURN = Path(__file__).resolve().parents[2] / "examples" / "churn"


def example(name: str) -> Callable[..., Any]:
    return resolve_function(f"steps:{name}", CHURN, "examples/churn")


@pytest.mark.slow
@pytest.mark.usefixtures("fast_gates")
def test_simulated_weeks_promote_some_retrains_and_reject_others_with_reasons() -> None:
    plan = {2: "label_noise", 3: "broken_export"}
    results = example("simulate_weeks")(CHURN / "loopline.yaml", weeks=3, rows=1000, plan=plan)
    outcome = [(r.trigger, r.status, r.promotion) for r in results]
    assert outcome == [
        ("new-data", "finished", "promoted"),  # week 0: the first model
        ("new-data", "finished", "promoted"),  # week 1: a clean batch
        ("new-data", "finished", "rejected"),  # week 2: a third of the labels flipped
        ("new-data", "failed", "not_attempted"),  # week 3: tenure exported in days
    ]
    noisy, broken = results[2], results[3]
    assert "staging: v3 gate failed: auc >= champion.auc - 0.02" in noisy.promotion_reason
    assert "column 'tenure' failed rule 'range'" in broken.promotion_reason

    # The reasons are in the run record (`loopline runs show`) ...
    shown = CliRunner().invoke(app, ["runs", "show", noisy.run_id, "--json"])
    tags = json.loads(shown.stdout)["tags"]
    assert tags["promotion"] == "rejected" and tags["trigger"] == "new-data"
    assert tags["promotion.staging"] == "rejected" and tags["step.production"] == "skipped"
    assert (
        tags["trigger.reason"].startswith("new version") and "churn-feed" in tags["trigger.reason"]
    )
    assert tags["candidate"] == "churn/3"
    failed = CliRunner().invoke(app, ["runs", "show", broken.run_id], env={"COLUMNS": "200"})
    assert "column 'tenure' failed rule 'range'" in failed.stdout
    # ... and in the audit log: which rule refused which version.
    events = open_metadata_store().list_audit_events()
    refused = [e for e in events if e.action == "gate_failed"]
    assert [e.target_id for e in refused] == ["churn/3"]
    assert refused[0].after and refused[0].after["failed"] == ["auc >= champion.auc - 0.02"]
    store = open_metadata_store()
    assert store.get_version_by_alias("churn", "production").version == 2
    assert store.get_version_by_alias("churn", "dev").version == 3


@pytest.mark.slow
@pytest.mark.usefixtures("fast_gates")
def test_an_unchanged_churn_pipeline_rerun_skips_every_cached_step() -> None:
    spec = load_pipeline(CHURN)
    first = run_pipeline(spec, params={"rows": 1000})
    assert first.ok and first.promotion == "promoted" and first.candidate == 1
    again = run_pipeline(spec, params={"rows": 1000})
    statuses = {s.name: s.status for s in again.steps}
    cacheable = [n for n, s in spec.steps.items() if s.uses != "promote"]
    assert all(statuses[n] == "cached" for n in cacheable)
    assert statuses["staging"] == statuses["production"] == "unchanged"
    assert again.promotion == "unchanged" and again.candidate == 1
    # The candidate run carries the lineage the gate and DORA need.
    run = open_metadata_store().get_run(open_metadata_store().get_version("churn", 1).run_id)
    assert run.tags["loopline.kind"] == "candidate" and run.tags["validation.train"] == "passed"
    assert {u.role for u in open_metadata_store().run_datasets(run.id)} == {"training"}

    report = pr_report(spec, run_id=first.run_id)
    assert report.passed and report.champion == "churn/1"
    text = report.to_markdown()
    assert "| auc |" in text and "Gate `production` (dry run): ✅ passes" in text
    assert "### Drift of the new training data" in text and "`tenure`" in text
