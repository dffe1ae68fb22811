"""Per-model ownership: set once, shown on the model card and carried by every alert."""

from __future__ import annotations

import json
from collections.abc import Callable

from loopline.monitoring._alerts import Finding, apply_findings
from loopline.store import ModelVersion, open_metadata_store
from tests.conftest import run_cli


def test_owner_is_on_the_card_and_in_alerts(train_version: Callable[..., ModelVersion]) -> None:
    train_version()
    p = run_cli("models", "owner", "churn", "--team", "retention", "--oncall", "@retention-oncall")
    assert p.returncode == 0 and "team retention" in p.stdout, p.stderr
    card = json.loads(run_cli("models", "card", "churn", "1", "--json").stdout)
    assert card["owner_team"] == "retention" and card["oncall"] == "@retention-oncall"
    store = open_metadata_store()
    (change,) = apply_findings(
        store, "monitors:/churn", "churn", [Finding("drift", "warning", "psi high")], "monitor"
    )
    alert = store.get_alert(change.alert.id)
    assert alert.context["owner_team"] == "retention"
    assert alert.context["oncall"] == "@retention-oncall"
    event = store.list_audit_events()[-2]
    assert event.action == "model.owner" and event.after == {
        "team": "retention",
        "oncall": "@retention-oncall",
    }
    missing = run_cli("models", "owner", "nope", "--team", "x")
    assert missing.returncode == 2 and "nope" in missing.stderr
