"""Remote-mode details the shared suites do not reach: arguments whose None means something
other than their default must survive the trip."""

from __future__ import annotations

import pytest

from loopline.store import open_metadata_store, reset_store_cache
from tests._team_server import TeamServer


def test_an_explicit_none_is_not_the_default(
    team: TeamServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOOPLINE_URL", team.url)
    monkeypatch.setenv("LOOPLINE_TOKEN", team.token("mo", "ml-engineer"))
    reset_store_cache()
    store = open_metadata_store()

    def fire() -> None:
        store.raise_alert(
            "churn", "data_drift", severity="warning", message="m", runbook="r",
            context={}, actor="ignored",
        )  # fmt: skip

    fire()
    store.resolve_alert("churn", "data_drift", actor="ignored", message="ok")
    fire()
    assert [a.status for a in store.list_alerts()] == ["open"]  # default: open only
    assert sorted(a.status for a in store.list_alerts(status=None)) == ["open", "resolved"]
    assert {e.actor for e in store.list_audit_events() if e.action.startswith("alert")} == {"mo"}
