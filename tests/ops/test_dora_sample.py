"""DORA on thin data (issue 20): below MIN_DEPLOYMENTS deployments the change failure rate is
counts, not a percentage, and below MIN_RESTORES restored incidents the time to restore is
counts, not a median; the keys say what a figure needs. A rollback that returns a newer
version (the undoing of a rollback) is not a failure of the version it leaves."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from loopline.ops.dora import MIN_DEPLOYMENTS, MIN_RESTORES, changes, summarize
from tests.ops._trail import T0, D, H, Trail, demo_trail

WINDOW = 28 * D


def test_the_demo_s_three_deployments_are_counts_not_a_rate() -> None:
    t = demo_trail()
    assert [(c.version, c.failed) for c in changes(t.events, {}, {})] == [
        (1, False),  # left by a roll forward, not rolled back
        (3, True),
        (4, False),
    ]
    k = summarize(t.events, {}, {}, T0, T0 + WINDOW).overall
    assert (k.deployments, k.failed, k.rolled_back) == (3, 1, 1)
    assert k.change_failure_rate is None
    assert k.insufficient == {
        "change_failure_rate": "3 deployments, 1 rolled back; a rate needs at least 10 "
        "deployments in the window"
    }


def test_ten_deployments_have_a_rate() -> None:
    t = Trail()
    for v in range(1, 11):
        t.promote(v * D, "churn", "production", v, prev=v - 1 or None)
    t.add(9.5 * D, "alert.fired", "alert", "churn:slo.latency#1", reason="p95 180 ms")
    t.rollback(10.5 * D, "churn", 10, to=9)
    t.add(11 * D, "alert.fired", "alert", "churn:slo.latency#2", reason="p95 190 ms")
    k = summarize(t.events, {}, {}, T0, T0 + WINDOW).overall
    assert (k.deployments, k.failed, k.rolled_back, k.change_failure_rate) == (10, 2, 1, 0.2)
    assert "change_failure_rate" not in k.insufficient
    # Two incidents, one restored (v10 replaced v9): too few for a median, and it says so.
    assert (k.incidents, k.restored, k.time_to_restore_median_h) == (2, 1, None)
    assert k.insufficient["time_to_restore_median_h"] == (
        "1 incident restored, 1 open; a median needs at least 5 restored incidents"
    )


def test_five_restores_have_a_median_and_no_incident_needs_no_sample() -> None:
    t = Trail()
    for i in range(1, 6):
        t.add(i * D, "alert.fired", "alert", f"churn:slo.error_rate#{i}")
        t.add(i * D + i * H, "alert.resolved", "alert", f"churn:slo.error_rate#{i}")
    k = summarize(t.events, {}, {}, T0, T0 + WINDOW).overall
    assert (k.restored, k.time_to_restore_median_h) == (5, 3.0)
    assert "time_to_restore_median_h" not in k.insufficient
    quiet = summarize(demo_trail().events[:1], {}, {}, T0, T0 + WINDOW).overall
    assert quiet.incidents == 0 and "time_to_restore_median_h" not in quiet.insufficient


ops = st.lists(
    st.tuples(
        st.sampled_from(["a", "b"]),
        st.sampled_from(["promote", "promote", "rollback", "forward", "alert", "resolve"]),
        st.floats(1, 2 * D),
    ),
    max_size=80,
)


def build(trail_ops: list[tuple[str, str, float]]) -> tuple[Trail, float]:
    """A trail from generated operations: each promote a new version; a rollback returns the
    version that served before; a forward returns the version last rolled back."""
    t, at, latest, n = Trail(), 0.0, {"a": 0, "b": 0}, 0
    served: dict[str, list[int]] = {"a": [], "b": []}
    rolled: dict[str, int] = {}
    open_alerts: list[str] = []
    for model, op, gap in trail_ops:
        at += gap
        stack = served[model]
        if op == "promote":
            latest[model] += 1
            t.promote(at, model, "production", latest[model], prev=stack[-1] if stack else None)
            stack.append(latest[model])
        elif op == "rollback" and len(stack) > 1:
            rolled[model] = stack.pop()
            t.rollback(at, model, rolled[model], to=stack[-1])
        elif op == "forward" and model in rolled:
            t.rollback(at, model, stack[-1], to=rolled[model])
            stack.append(rolled.pop(model))
        elif op == "alert":
            n += 1
            t.add(at, "alert.fired", "alert", f"{model}:slo.error_rate#{n}")
            open_alerts.append(f"{model}:slo.error_rate#{n}")
        elif op == "resolve" and open_alerts:
            t.add(at, "alert.resolved", "alert", open_alerts.pop(0))
    return t, at


def check(k: dict[str, Any]) -> None:
    """One row of keys (all models, a model or a week) keeps the sample rule."""
    n, failed, why = k["deployments"], k["failed"], k["insufficient"]
    assert 0 <= k["rolled_back"] <= failed <= n
    if n < MIN_DEPLOYMENTS:
        assert k["change_failure_rate"] is None
        reason = why["change_failure_rate"]
        assert reason.startswith(f"{n} deployment" if n else "no deployments")
        assert reason.endswith(f"at least {MIN_DEPLOYMENTS} deployments in the window")
    else:
        assert "change_failure_rate" not in why and k["change_failure_rate"] == failed / n
    assert k["restored"] + k["open_incidents"] == k["incidents"]
    thin = k["incidents"] > 0 and k["restored"] < MIN_RESTORES
    assert ("time_to_restore_median_h" in why) == thin
    if thin or not k["restored"]:
        assert k["time_to_restore_median_h"] is None
    else:
        assert k["time_to_restore_median_h"] >= 0


@settings(max_examples=200, deadline=None)
@given(ops)
def test_every_row_shows_a_rate_only_over_enough_deployments(
    trail_ops: list[tuple[str, str, float]],
) -> None:
    t, at = build(trail_ops)
    report = summarize(t.events, {}, {}, T0, T0 + at + 1)
    overall = asdict(report.overall)
    assert overall["failed"] == sum(c.failed for c in report.changes)
    for row in [overall, *(asdict(k) for k in report.per_model.values()), *report.weeks]:
        check(row)
    # A roll forward never fails the version it leaves: only moves to older versions count.
    back = [
        e
        for e in t.events
        if e.action == "rollback" and (e.after or {})["version"] < (e.before or {})["version"]
    ]
    assert overall["rolled_back"] <= len(back)
