"""The canary controller rolls back through `serving.rollback_deployment`, the function the
CLI and the web UI call: two replicas that judge the same broken step at once write one
rollback and raise one alert; a rollback of a record that moved on is refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from loopline.errors import ConflictError, InvalidInputError
from loopline.serving import Slo, deploy, rollback_deployment
from loopline.store import open_metadata_store
from tests.serving.conftest import LiveServer
from tests.serving.test_rollback_alert import broken_challenger, mon, send

__all__ = ["broken_challenger"]


def test_two_replicas_judging_one_broken_step_roll_back_and_alert_once(
    broken_challenger: int, live_server: Callable[..., LiveServer]
) -> None:
    first, second = live_server(), live_server()
    d = deploy(
        "churn",
        broken_challenger,
        strategy="canary",
        steps=[50, 100],
        step_duration_s=60,
        slo=Slo(min_requests=5, window_s=30),
    )
    for server in (first, second):
        server.runtime.rollout.sync()
        send(server, 40)
    first.runtime.rollout.check()
    second.runtime.rollout.check()  # decided on the same step: its write loses, no error

    assert open_metadata_store().get_deployment(d.id).status == "rolled_back"
    actions = [e.action for e in open_metadata_store().list_audit_events()]
    assert actions.count("deploy.rollback") == 1
    assert len(mon().list_alerts(model="churn")) == 1
    for server in (first, second):  # both serve the champion only
        assert server.runtime.rollout.deployment is None


def test_a_rollback_of_a_record_that_moved_on_is_refused(broken_challenger: int) -> None:
    d = deploy("churn", broken_challenger, strategy="canary", steps=[50, 100])
    with pytest.raises(InvalidInputError, match="not 'other'"):
        rollback_deployment("other", expected=d)
    moved = open_metadata_store().update_deployment(
        d.id, expected_step=d.step, actor="t", action="deploy.step", step=1
    )
    assert moved is not None
    with pytest.raises(ConflictError, match="changed meanwhile"):
        rollback_deployment("churn", reason="stale", expected=d)
    assert open_metadata_store().get_deployment(d.id).status == "active"
    assert rollback_deployment("churn", reason="now", expected=moved).status == "rolled_back"
