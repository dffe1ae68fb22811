"""DORA keys and model-health KPIs from audit events: worked examples, properties, and the
edge that reads a real store."""

from __future__ import annotations

import json
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

import loopline as ll
from loopline.ops.dora import (
    MIN_DEPLOYMENTS,
    Commit,
    changes,
    dora_report,
    incidents,
    iso_week,
    keys,
    summarize,
)
from loopline.store import ModelVersion, open_metadata_store
from tests.ops._trail import T0, D, H, Trail
from tests.pipelines.cli import invoke


def test_a_worked_quarter_of_deployments_failures_and_restores() -> None:
    t = Trail()
    t.add(0, "register", "model_version", "churn/1", after={"run_id": "r1"})
    t.promote(1 * D, "churn", "production", 1)
    t.promote(2 * D, "churn", "staging", 2)  # not production: not a deployment
    t.promote(8 * D, "churn", "production", 2, prev=1)
    t.add(
        8.5 * D,
        "rollback",
        "alias",
        "churn@production",
        before={"version": 2},
        after={"version": 1},
    )
    t.add(
        15 * D,
        "deploy.start",
        "deployment",
        "churn#1",
        after={"strategy": "canary", "champion": 1, "challenger": 3},
    )
    t.add(15 * D + 60, "deploy.step", "deployment", "churn#1")
    t.add(15 * D + 90, "deploy.rollback", "deployment", "churn#1", reason="error rate 4%")
    t.add(
        20 * D,
        "deploy.start",
        "deployment",
        "churn#2",
        after={"strategy": "canary", "champion": 1, "challenger": 4},
    )
    t.add(20.2 * D, "deploy.complete", "deployment", "churn#2")
    t.promote(20.2 * D, "churn", "production", 4, prev=1)  # the rollout's own alias move
    t.add(21 * D, "alert.fired", "alert", "churn:slo.latency#5", reason="p95 180 ms")
    t.add(21.5 * D, "alert.resolved", "alert", "churn:slo.latency#5")
    t.add(22 * D, "alert.fired", "alert", "churn:data_drift#6", reason="psi 0.3")
    t.add(23 * D, "register", "model_version", "churn/5", after={"run_id": "r5"})
    t.add(23.5 * D, "gate_failed", "model_version", "churn/5", after={"alias": "staging"})
    t.add(23.6 * D, "gate_passed", "model_version", "churn/5", after={"alias": "staging"})
    t.add(23.7 * D, "gate_failed", "model_version", "churn/3", after={"alias": "production"})
    t.promote(24 * D, "churn", "production", 5, prev=4)
    commits = {("churn", 1): Commit(T0 - 1 * D, "commit"), ("churn", 5): Commit(T0, "run_start")}
    aliases = {"churn#1": "production", "churn#2": "production"}

    found = changes(t.events, commits, aliases)
    assert [(c.version, c.via, c.failed) for c in found] == [
        (1, "promote", False),
        (2, "promote", True),  # rolled back
        (3, "rollout", True),  # its canary was rolled back
        (4, "rollout", True),  # an SLO alert fired while it served
        (5, "promote", False),  # the drift alert is not a change failure
    ]
    assert found[0].lead_time_s == 2 * D and found[1].failure == "rolled back to v1"
    incs = incidents(t.events)
    assert [(i.restored - i.started if i.restored else None) for i in incs] == [30.0, 0.5 * D]

    report = summarize(t.events, commits, aliases, T0, T0 + 28 * D)
    k = report.overall
    # Five deployments and two restores are too few for a rate or a median: counts instead.
    assert (k.deployments, k.failed, k.rolled_back, k.incidents, k.restored) == (5, 3, 2, 2, 2)
    assert k.change_failure_rate is None and k.time_to_restore_median_h is None
    assert k.insufficient == {
        "change_failure_rate": "5 deployments, 2 rolled back, 1 followed by a failure alert; "
        "a rate needs at least 10 deployments in the window",
        "time_to_restore_median_h": "2 incidents restored; a median needs at least 5 "
        "restored incidents",
    }
    lifted = keys(report.changes, incs, 4.0, min_deployments=1, min_restores=1)
    assert lifted.change_failure_rate == 0.6 and lifted.insufficient == {}
    assert lifted.time_to_restore_median_h == (30.0 + 0.5 * D) / 2 / H
    assert k.per_week == 5 / 4 and k.lead_time_proxies == 1
    assert k.lead_time_median_h == (2 * D / H + 24 * D / H) / 2
    assert sum(w["deployments"] for w in report.weeks) == 5
    health = report.health
    assert (
        health["drift_to_production_median_h"] == 48.0
    )  # drift day 22 → v5 (registered 23) day 24
    assert health["retrains"] == 2 and health["retrain_interval_median_days"] == 23.0
    assert (health["candidates_gated"], health["candidates_rejected"]) == (2, 1)
    assert "uses the training run's start" in report.notes[0]


events_ops = st.lists(
    st.tuples(
        st.sampled_from(["a", "b"]),
        st.sampled_from(["promote", "rollback", "alert", "resolve", "staging"]),
        st.floats(1, 3 * D),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(events_ops)
def test_keys_stay_within_their_definitions(ops: list[tuple[str, str, float]]) -> None:
    t, at, version, alert = Trail(), 0.0, {"a": 0, "b": 0}, 0
    for model, op, gap in ops:
        at += gap
        if op == "promote":
            version[model] += 1
            t.promote(at, model, "production", version[model], prev=version[model] - 1 or None)
        elif op == "staging":
            t.promote(at, model, "staging", version[model] + 1)
        elif op == "rollback" and version[model] > 1:
            t.add(
                at,
                "rollback",
                "alias",
                f"{model}@production",
                before={"version": version[model]},
                after={"version": version[model] - 1},
            )
        elif op == "alert":
            alert += 1
            t.add(at, "alert.fired", "alert", f"{model}:slo.error_rate#{alert}")
        elif op == "resolve" and alert:
            t.add(at, "alert.resolved", "alert", f"{model}:slo.error_rate#{alert}")
    report = summarize(t.events, {}, {}, T0, T0 + at + 1)
    promotes = [
        e for e in t.events if e.action == "promote" and e.target_id.endswith("@production")
    ]
    assert report.overall.deployments == len(promotes)
    assert sum(k.deployments for k in report.per_model.values()) == len(promotes)
    assert sum(w["deployments"] for w in report.weeks) == len(promotes)
    cfr = report.overall.change_failure_rate
    assert cfr is None if len(promotes) < MIN_DEPLOYMENTS else 0.0 <= cfr <= 1.0
    for inc in incidents(t.events):
        assert inc.restored is None or inc.restored >= inc.started
    assert all(iso_week(c.at).startswith("20") for c in report.changes)


def test_the_edge_reads_a_real_store(train_version: Callable[..., ModelVersion]) -> None:
    v1, v2 = train_version(), train_version()
    ll.promote("churn", v1.version, alias="production")
    ll.promote("churn", v2.version, alias="production")
    ll.rollback("churn", "production", reason="bad release")
    store = open_metadata_store()
    store.raise_alert(
        "churn",
        "slo.latency",
        severity="critical",
        message="p95 over budget",
        runbook="",
        context={},
        actor="monitor",
    )
    report = dora_report(store)
    assert report.overall.deployments == 2 and report.overall.failed == 1
    assert report.overall.change_failure_rate is None  # two deployments: counts, not a rate
    assert report.changes[1].failure == "rolled back to v1"
    assert report.overall.lead_time_proxies == 2 and report.overall.incidents == 1
    assert dora_report(store, model="other").overall.deployments == 0
    out = invoke("reports", "dora", "--since", "30d")
    assert out.exit_code == 0 and "fail rate" in out.output and "1 of 2" in out.output
    assert "50%" not in out.output
    data = json.loads(invoke("reports", "dora", "--json").output)
    assert data["overall"]["deployments"] == 2 and data["per_model"]["churn"]["deployments"] == 2
    assert data["overall"]["change_failure_rate"] is None and data["overall"]["failed"] == 1
    bad = invoke("reports", "dora", "--since", "soon")
    assert bad.exit_code == 2 and "is not a duration" in bad.output
