"""The runner: order, step cache, failures with logs, retries, --from/--to, tracked runs."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from loopline.errors import InvalidInputError
from loopline.pipelines import StepCache, StepEvent, run_pipeline
from loopline.store import open_artifact_store, open_metadata_store
from tests.pipelines.conftest import SPEC, Toy


def test_runs_in_order_then_every_unchanged_step_is_cached(toy: Toy) -> None:
    spec = toy.write()
    first = run_pipeline(spec)
    assert first.ok and [s.status for s in first.steps] == ["ok"] * 4
    assert toy.executed() == ["make", "stats", "double", "report"]

    t0 = time.perf_counter()
    again = run_pipeline(spec)
    assert time.perf_counter() - t0 < 2.0
    assert toy.executed() == []  # nothing executed: every step came from the cache
    assert [s.status for s in again.steps] == ["cached"] * 4
    assert all(s.cached_from == first.run_id for s in again.steps)
    assert again.step("report").outputs == first.step("report").outputs


def test_a_param_reruns_only_the_steps_that_use_it_and_what_follows(toy: Toy) -> None:
    spec = toy.write()
    run_pipeline(spec)
    toy.executed()
    result = run_pipeline(spec, params={"factor": 3})
    assert toy.executed() == ["double", "report"]
    assert {s.name: s.status for s in result.steps} == {
        "make": "cached",
        "stats": "cached",
        "double": "ok",
        "report": "ok",
    }


def test_editing_the_step_module_invalidates_its_steps(toy: Toy) -> None:
    spec = toy.write()
    run_pipeline(spec)
    toy.executed()
    spec = toy.write(extra_steps="\n\ndef helper():\n    return 1\n")
    run_pipeline(spec)
    assert toy.executed() == ["make", "stats", "double", "report"]


def test_the_run_is_tracked_with_outputs_tags_and_logs(toy: Toy) -> None:
    result = run_pipeline(toy.write(), trigger="schedule", reason="nightly")
    store = open_metadata_store()
    run = store.get_run(result.run_id)
    assert run.experiment == "toy" and run.status == "finished"
    assert run.tags["trigger"] == "schedule" and run.tags["trigger.reason"] == "nightly"
    assert run.tags["step.double"] == "ok" and run.tags["promotion"] == "none"
    assert run.params["factor"] == "2"
    paths = {a.path: a for a in store.list_artifacts(run.id)}
    assert {"steps/make/data", "steps/double/doubled", "steps/double/total"} <= set(paths)
    assert paths["steps/make/data"].meta["format"] == "parquet"
    log = open_artifact_store().get_bytes(paths["steps/stats/log.txt"].sha256).decode()
    assert "rows: 50" in log  # the step's print went to its log, not the terminal


def test_a_failure_stops_downstream_steps_and_keeps_the_log(toy: Toy) -> None:
    spec = toy.write(
        SPEC
        + """
  bad: {run: steps:boom, inputs: {data: make.data}, outputs: [x]}
  after: {run: steps:stats, inputs: {data: bad.x}, outputs: [y]}
"""
    )
    result = run_pipeline(spec)
    assert not result.ok
    statuses = {s.name: s.status for s in result.steps}
    assert statuses["bad"] == "failed" and statuses["after"] == "skipped"
    assert statuses["report"] == "ok"  # a branch that does not depend on the failure runs
    assert result.step("bad").error == "ValueError: boom: the data has a problem"
    store = open_metadata_store()
    run = store.get_run(result.run_id)
    assert run.status == "failed" and "boom" in (run.error or "")
    assert run.tags["failed_step"] == "bad"
    log_sha = store.get_artifact(run.id, "steps/bad/log.txt").sha256
    log = open_artifact_store().get_bytes(log_sha).decode()
    assert "about to fail on 50 rows" in log and "Traceback" in log


@pytest.mark.parametrize(("fail_times", "status", "attempts"), [(2, "ok", 3), (5, "failed", 3)])
def test_retryable_steps_retry_with_backoff(
    toy: Toy, fail_times: int, status: str, attempts: int
) -> None:
    spec = toy.write(
        SPEC
        + """
  upload:
    run: steps:flaky
    inputs: {data: make.data}
    params: [fail_times]
    outputs: [rows]
    retryable: true
    retries: 2
    backoff_s: 0.01
"""
    )
    events: list[StepEvent] = []
    result = run_pipeline(spec, params={"fail_times": fail_times}, on_event=events.append)
    step = result.step("upload")
    assert (step.status, step.attempts) == (status, attempts)
    retries = [e for e in events if e.status == "retry"]
    assert len(retries) == 2 and "worker lost" in retries[0].message


def test_a_failed_step_is_not_cached(toy: Toy) -> None:
    spec = toy.write(
        SPEC
        + """
  upload: {run: steps:flaky, inputs: {data: make.data}, params: [fail_times], outputs: [rows]}
"""
    )
    assert run_pipeline(spec, params={"fail_times": 1}).step("upload").status == "failed"
    assert run_pipeline(spec, params={"fail_times": 1}).step("upload").status == "ok"


def test_from_reuses_cached_upstream_outputs_and_reruns_the_rest(toy: Toy) -> None:
    spec = toy.write()
    run_pipeline(spec)
    toy.executed()
    result = run_pipeline(spec, from_step="double")
    # `double` is forced; `report` gets the same input again, so its cache still holds.
    assert toy.executed() == ["double"]
    statuses = {s.name: s.status for s in result.steps}
    assert statuses == {"make": "loaded", "stats": "loaded", "double": "ok", "report": "cached"}


def test_from_without_a_cache_fails_naming_the_step(toy: Toy) -> None:
    result = run_pipeline(toy.write(), from_step="report")
    assert not result.ok
    assert "has no cached outputs" in (result.step("make").error or "")


def test_to_runs_only_what_the_step_needs(toy: Toy) -> None:
    result = run_pipeline(toy.write(), to_steps=("stats",))
    assert [s.name for s in result.steps] == ["make", "stats"]
    assert toy.executed() == ["make", "stats"]


def test_outputs_keep_their_types_through_the_artifact_store(toy: Toy) -> None:
    spec = toy.write(
        SPEC + "  kinds: {run: steps:kinds, inputs: {data: make.data}, "
        "outputs: [frame, json, array, obj, text]}\n"
    )
    result = run_pipeline(spec)
    cache = StepCache(open_metadata_store(), open_artifact_store())
    outs = result.step("kinds").outputs
    assert {n: o.format for n, o in outs.items()} == {
        "frame": "parquet",
        "json": "json",
        "array": "npy",
        "obj": "skops",  # never pickle: the cache must not run code when read
        "text": "json",
    }
    assert isinstance(cache.load(outs["frame"]), pd.DataFrame)
    assert isinstance(cache.load(outs["array"]), np.ndarray)
    assert cache.load(outs["obj"]) == (1, "tuple")
    assert cache.load(outs["json"]) == {"k": [1, 2.5, "x"]}


def test_mistakes_are_refused_before_the_run_starts(toy: Toy) -> None:
    spec = toy.write()
    with pytest.raises(InvalidInputError, match="has no param"):
        run_pipeline(spec, params={"factr": 3})
    with pytest.raises(InvalidInputError, match="unknown trigger"):
        run_pipeline(spec, trigger="whenever")
    bad = toy.write(SPEC.replace("steps:stats", "steps:missing_function"))
    with pytest.raises(InvalidInputError, match="has no function 'missing_function'"):
        run_pipeline(bad)
    mismatch = toy.write(SPEC.replace("params: [factor]", "params: [n]"))
    with pytest.raises(InvalidInputError, match="has no parameter"):
        run_pipeline(mismatch)
    assert open_metadata_store().list_runs(experiment=None) == []
