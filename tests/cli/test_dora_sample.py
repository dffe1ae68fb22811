"""`loopline reports dora` on thin data (issue 20): under 10 deployments the fail-rate cell is
the counts and a note says what a rate needs; `--json` has `null` and the reason. The report
is built from hand-made audit trails (tests/ops/_trail.py), so only the command is under
test; tests/ops/test_dora.py runs it over a real store."""

from __future__ import annotations

import json

import pytest

import loopline.ops.dora as dora
from loopline.ops import DoraReport
from loopline.store import open_metadata_store
from tests.cli._terminal import render
from tests.ops._trail import T0, D, Trail, demo_trail
from tests.pipelines.cli import invoke

KEYS = ["model", "deploys", "lead h", "fail rate", "restore h", "week"]


def serve_report(monkeypatch: pytest.MonkeyPatch, trail: Trail) -> DoraReport:
    """`reports dora` answers the report of `trail` (over an empty store: it reads none)."""
    open_metadata_store()  # read-only commands refuse to run where no store exists
    report = dora.summarize(trail.events, {}, {}, T0, T0 + 28 * D)
    monkeypatch.setattr(dora, "dora_report", lambda *a, **k: report)
    return report


def test_three_deployments_show_counts_and_what_a_rate_needs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trail = demo_trail()
    trail.add(6 * 3600, "alert.fired", "alert", "churn:slo.latency#1", reason="p95 210 ms")
    serve_report(monkeypatch, trail)
    out = render(80, "reports", "dora", whole=KEYS)
    row = next(line for line in out.splitlines() if line.lstrip().startswith("all models"))
    assert "2 of 3" in row and "%" not in row
    assert "0 restored" in row  # the alert is still open: no restore to take a median of
    flat = " ".join(out.split())
    assert (
        "note: fail rate shows counts: 3 deployments, 1 rolled back, 1 followed by a failure "
        "alert; a rate needs at least 10 deployments in the window" in flat
    )
    assert (
        "note: restore h shows counts: none restored, 1 open; a median needs at least 5 "
        "restored incidents" in flat
    )

    data = json.loads(invoke("reports", "dora", "--json").output)
    overall = data["overall"]
    assert overall["change_failure_rate"] is None and overall["time_to_restore_median_h"] is None
    assert (overall["deployments"], overall["failed"], overall["rolled_back"]) == (3, 2, 1)
    assert overall["insufficient"]["change_failure_rate"].startswith("3 deployments, 1 rolled")
    assert data["weeks"][0]["failed"] == 2 and data["weeks"][0]["change_failure_rate"] is None


def test_ten_deployments_show_a_rate_and_no_note(monkeypatch: pytest.MonkeyPatch) -> None:
    trail = Trail()
    for v in range(1, 11):
        trail.promote(v * D, "churn", "production", v, prev=v - 1 or None)
    trail.rollback(10.5 * D, "churn", 10, to=9)
    serve_report(monkeypatch, trail)
    out = render(80, "reports", "dora", whole=KEYS)
    row = next(line for line in out.splitlines() if line.lstrip().startswith("all models"))
    assert "10%" in row and " of " not in row
    assert "shows counts" not in out
    data = json.loads(invoke("reports", "dora", "--json").output)
    assert data["overall"]["change_failure_rate"] == 0.1 and data["overall"]["insufficient"] == {}


def test_a_model_thinner_than_the_whole_gets_its_own_note(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trail = Trail()
    for v in range(1, 11):
        trail.promote(v * D, "churn", "production", v, prev=v - 1 or None)
    trail.promote(12 * D, "fraud", "production", 1)
    serve_report(monkeypatch, trail)
    out = " ".join(render(120, "reports", "dora", whole=KEYS).split())
    assert "0%" in out  # all models: 11 deployments, none failed
    assert (
        "note: fraud: fail rate shows counts: 1 deployment, none failed; a rate needs at "
        "least 10 deployments in the window" in out
    )
    assert "note: churn:" not in out  # churn's ten have a rate, and no incident
