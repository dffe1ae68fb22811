"""Continuous training: schedules fire once per slot, new dataset versions and retrain
requests from monitoring start the pipeline, and each run records why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from loopline.pipelines import Scheduler, publish_dataset, run_scheduler
from loopline.store import MonitoringStore, open_metadata_store
from tests.pipelines.conftest import SPEC, Toy

MONDAY_6 = datetime(2026, 1, 5, 6, 0, 30, tzinfo=UTC)


def test_a_schedule_fires_once_in_its_minute(toy: Toy) -> None:
    spec = toy.write(SPEC + "schedule: '0 6 * * 1'\n")
    scheduler = Scheduler([spec])
    assert scheduler.tick(MONDAY_6 - timedelta(minutes=1)) == []
    (result,) = scheduler.tick(MONDAY_6)
    assert result.trigger == "schedule" and result.reason.startswith("schedule '0 6 * * 1'")
    assert open_metadata_store().get_run(result.run_id).tags["schedule.slot"] == "2026-01-05T06:00"
    assert scheduler.tick(MONDAY_6 + timedelta(seconds=20)) == []  # same slot: already ran
    # A restarted scheduler reads what ran from the store, so it does not repeat it either.
    assert Scheduler([spec]).tick(MONDAY_6) == []
    assert len(Scheduler([spec]).tick(MONDAY_6 + timedelta(weeks=1))) == 1


def test_schedules_follow_their_time_zone(toy: Toy) -> None:
    spec = toy.write(SPEC + "schedule: {cron: '0 7 * * *', timezone: Europe/Paris}\n")
    assert Scheduler([spec]).tick(datetime(2026, 1, 5, 7, 0, tzinfo=UTC)) == []
    assert len(Scheduler([spec]).tick(datetime(2026, 1, 5, 6, 0, tzinfo=UTC))) == 1


def test_a_new_dataset_version_starts_a_run_with_its_fingerprint(toy: Toy) -> None:
    spec = toy.write(
        SPEC.replace("params: {", "params: {feed: '', ")
        + "triggers:\n  - {on: new-data, dataset: feed, param: feed}\n"
    )
    scheduler = Scheduler([spec])
    assert scheduler.tick(MONDAY_6) == []  # no version yet
    v1 = publish_dataset(pd.DataFrame({"x": [1, 2, 3]}), "feed")
    (result,) = scheduler.tick(MONDAY_6)
    run = open_metadata_store().get_run(result.run_id)
    assert result.trigger == "new-data" and run.params["feed"] == v1.fingerprint
    assert run.tags["data.feed"] == v1.fingerprint and "3 rows" in result.reason
    assert scheduler.tick(MONDAY_6) == []
    publish_dataset(pd.DataFrame({"x": [4, 5]}), "feed")
    assert [r.trigger for r in scheduler.tick(MONDAY_6)] == ["new-data"]


@pytest.mark.parametrize(
    ("context", "triggers", "fires"),
    [
        ({"feature": "tenure", "psi": [0.3, 0.4]}, "[drift]", "drift"),
        ({"metric": "auc", "value": 0.7}, "[performance]", "performance"),
        ({"metric": "auc", "value": 0.7}, "[drift]", None),  # not a trigger of this pipeline
    ],
)
def test_retrain_requests_from_monitoring_start_the_pipeline(
    toy: Toy,
    monitoring_store: MonitoringStore,
    context: dict[str, object],
    triggers: str,
    fires: str | None,
) -> None:
    spec = toy.write(SPEC.replace("name: toy", "name: toy\nmodel: toy") + f"triggers: {triggers}\n")
    request, _ = monitoring_store.request_retrain(
        "toy",
        None,
        reason="psi(`tenure`) > 0.2 for 2 windows",
        context=context,
        alert_id=None,
        actor="monitor",
    )
    results = Scheduler([spec]).tick(MONDAY_6)
    if fires is None:
        assert results == []
        return
    (result,) = results
    assert result.trigger == fires and result.reason == "psi(`tenure`) > 0.2 for 2 windows"
    tags = open_metadata_store().get_run(result.run_id).tags
    assert tags["trigger.request"] == str(request.id)
    (done,) = monitoring_store.list_retrain_requests(model="toy")
    assert done.status == "done"
    actions = [e.action for e in open_metadata_store().list_audit_events()]
    assert actions[-3:] == ["retrain.requested", "retrain.started", "retrain.done"]
    assert Scheduler([spec]).tick(MONDAY_6) == []  # the request is answered: no second run


def test_a_failed_run_cancels_the_request_so_the_monitor_can_ask_again(
    toy: Toy, monitoring_store: MonitoringStore
) -> None:
    spec = toy.write(
        SPEC.replace("name: toy", "name: toy\nmodel: toy")
        + "  bad: {run: steps:boom, inputs: {data: make.data}, outputs: [x]}\n"
        + "triggers: [drift]\n"
    )
    monitoring_store.request_retrain(
        "toy", None, reason="drift", context={"feature": "a"}, alert_id=None, actor="monitor"
    )
    (result,) = Scheduler([spec]).tick(MONDAY_6)
    assert not result.ok
    (req,) = monitoring_store.list_retrain_requests(model="toy")
    assert req.status == "cancelled"


def test_the_loop_is_bounded_and_reports_what_it_does(toy: Toy) -> None:
    spec = toy.write(SPEC + "schedule: '* * * * *'\n")
    clock = iter([MONDAY_6, MONDAY_6 + timedelta(seconds=30), MONDAY_6 + timedelta(minutes=1)])
    slept: list[float] = []
    said: list[str] = []
    results = run_scheduler(
        [spec],
        max_ticks=3,
        interval_s=30,
        clock=lambda: next(clock),
        sleep=slept.append,
        on_message=said.append,
    )
    assert len(results) == 2 and slept == [30, 30]  # two slots, the second tick was in slot 1
    assert any("toy: run" in m and "finished" in m for m in said)
    assert len(run_scheduler([spec], once=True, clock=lambda: MONDAY_6)) == 0
