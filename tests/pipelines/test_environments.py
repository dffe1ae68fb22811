"""Environments dev → staging → production: per-environment gates, approvals, rollouts, and
promotion from one environment to the next as a pipeline step."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import loopline as ll
from loopline.errors import ConflictError
from loopline.pipelines import run_pipeline
from loopline.store import open_metadata_store
from tests.pipelines.conftest import Toy

FLOW = """
name: toy
model: toy
target: label
params: {n: 80, seed: 1}
steps:
  make: {run: steps:make, params: [n, seed], outputs: [data]}
  fit: {run: steps:fit, inputs: {data: make.data}, outputs: [model]}
  register: {uses: register, to: dev, inputs: {model: fit.model, train: make.data}}
  staging: {uses: promote, to: staging, inputs: {version: register.version, data: make.data}}
  production: {uses: promote, to: production, inputs: {version: staging.version}}
environments:
  dev: {}
  staging: {policy: {rules: ["accuracy >= 0.5"]}}
  production: PRODUCTION
"""


@pytest.mark.usefixtures("fast_gates")
def test_an_approval_holds_production_until_someone_else_approves(
    toy: Toy, switch_user: Callable[..., None]
) -> None:
    spec = toy.write(FLOW.replace("PRODUCTION", "{approval: true}"))
    switch_user("data-scientist")
    first = run_pipeline(spec)
    assert first.promotion == "rejected"
    assert "approvals >= 1 (approver) (no approvals yet)" in first.promotion_reason
    store = open_metadata_store()
    assert store.get_version_by_alias("toy", "staging").version == 1
    assert store.get_version_by_alias("toy", "dev").version == 1

    switch_user("reviewer", "approver")
    ll.approve("toy", 1, comment="looks good")
    switch_user("release-bot")  # CI runs the release; the approval is someone else's
    # What the CI tag job runs: only the production step, for the version @staging holds.
    release = run_pipeline(spec, from_step="production", trigger="ci", reason="release v1")
    assert release.promotion == "promoted"
    assert [s.status for s in release.steps][-2:] == ["loaded", "promoted"]
    assert store.get_version_by_alias("toy", "production").version == 1
    moves = store.alias_history("toy", "production")
    assert moves[-1].reason == f"pipeline toy run {release.run_id[:8]} (ci: release v1)"


@pytest.mark.usefixtures("fast_gates")
def test_a_rollout_strategy_starts_a_canary_instead_of_moving_the_alias(toy: Toy) -> None:
    spec = toy.write(FLOW.replace("PRODUCTION", "{deploy: {strategy: canary, steps: [10, 100]}}"))
    assert run_pipeline(spec).promotion == "promoted"  # no champion yet: the alias moves
    second = run_pipeline(spec, params={"seed": 2})
    assert second.step("production").status == "deploying"
    assert "canary rollout #1 started" in second.promotion_reason
    store = open_metadata_store()
    rollout = store.active_deployment("toy")
    assert rollout is not None and (rollout.champion_version, rollout.challenger_version) == (1, 2)
    assert rollout.params["steps"] == [10.0, 100.0]
    assert store.get_version_by_alias("toy", "production").version == 1  # servers move it
    decisions = store.list_gate_decisions("toy", 2)
    assert [(d.alias, d.passed) for d in decisions] == [("staging", True), ("production", True)]
    third = run_pipeline(spec, params={"seed": 3})
    assert third.step("production").status == "failed"  # one rollout at a time
    assert "active" in (third.step("production").error or "")


def test_the_loop_run_twice_never_moves_production_backwards(toy: Toy) -> None:
    """Issue 16: running the loop a second time (make demo twice) promoted the week-0 model
    from the step cache over the newer one in production."""
    spec = toy.write(FLOW.replace("PRODUCTION", "{}"))
    assert run_pipeline(spec).promotion == "promoted"  # v1
    assert run_pipeline(spec, params={"seed": 2}).promotion == "promoted"  # v2
    again = run_pipeline(spec)  # same params: training comes from the cache, v1 is offered
    assert again.promotion == "rejected"
    assert "v1 is older than v2, which holds @production" in again.promotion_reason
    store = open_metadata_store()
    assert store.get_version_by_alias("toy", "production").version == 2
    # ...and the store refuses it on any other path too.
    with pytest.raises(ConflictError, match="older than its holder"):
        ll.promote("toy", 1, "production")
