"""Adaptive micro-batching: concurrent requests share predict calls, each request gets
exactly its own answer, a failing request fails alone, and a saturated queue sheds with 503."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loopline.errors import ConfigError
from loopline.serving._batching import MicroBatcher, OverloadedError, Prediction
from loopline.store import ModelVersion


def run(coroutine: Any) -> Any:
    """`asyncio.run` on a thread of its own: a test run earlier in the same worker (the
    Playwright browser tests) may leave an event loop running on the main thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class Recorder:
    """A model: label = 2 * x, proba = (x, 1 - x); records the rows of every call."""

    def __init__(self, delay_s: float = 0.0, fail_on: float | None = None) -> None:
        self.calls: list[int] = []
        self.delay_s = delay_s
        self.fail_on = fail_on
        self.lock = threading.Lock()

    def __call__(self, frame: pd.DataFrame) -> Prediction:
        with self.lock:
            self.calls.append(len(frame))
        time.sleep(self.delay_s)
        x = frame["x"].to_numpy()
        if self.fail_on is not None and (x == self.fail_on).any():
            raise ValueError("the model cannot score this row")
        return x * 2, np.column_stack([x, 1 - x])


def frame_of(values: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"x": np.array(values, dtype="float64")})


async def gather(
    batcher: MicroBatcher, model: Callable[[pd.DataFrame], Prediction], frames: list[pd.DataFrame]
) -> list[Any]:
    tasks = [batcher.score(model, model, f) for f in frames]
    return await asyncio.gather(*tasks, return_exceptions=True)


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=1, max_value=9), min_size=1, max_size=40),
    max_batch=st.integers(min_value=1, max_value=32),
)
def test_every_request_gets_exactly_its_own_rows_back(sizes: list[int], max_batch: int) -> None:
    model = Recorder(delay_s=0.001)
    batcher = MicroBatcher(max_batch_size=max_batch, max_latency_ms=60_000)
    start = 0
    frames = []
    for n in sizes:
        frames.append(frame_of([float(v) for v in range(start, start + n)]))
        start += n
    try:
        results = run(gather(batcher, model, frames))
    finally:
        batcher.close()
    for frame, (labels, proba) in zip(frames, results, strict=True):
        x = frame["x"].to_numpy()
        np.testing.assert_array_equal(labels, x * 2)
        np.testing.assert_array_equal(proba, np.column_stack([x, 1 - x]))
    assert sum(model.calls) == sum(sizes)  # every row scored once
    # A batch never exceeds the limit, except a single request that is itself larger.
    assert all(c <= max(max_batch, max(sizes)) for c in model.calls)
    assert batcher.batches == len(model.calls)


def test_concurrent_requests_share_predict_calls() -> None:
    model = Recorder(delay_s=0.005)
    batcher = MicroBatcher(max_batch_size=64, max_latency_ms=60_000)
    frames = [frame_of([i / 100]) for i in range(50)]
    try:
        run(gather(batcher, model, frames))
    finally:
        batcher.close()
    # All fifty were decoded in the same turn of the event loop: one call scores them.
    assert model.calls == [50]


def test_a_lone_request_is_not_held_back() -> None:
    model = Recorder()
    batcher = MicroBatcher(max_batch_size=64, max_latency_ms=60_000)
    try:
        labels, _ = run(batcher.score(model, model, frame_of([0.25])))
    finally:
        batcher.close()
    assert labels.tolist() == [0.5]
    assert model.calls == [1]


def test_a_failing_request_fails_alone() -> None:
    model = Recorder(delay_s=0.002, fail_on=0.13)
    batcher = MicroBatcher(max_batch_size=64, max_latency_ms=60_000)
    frames = [frame_of([i / 100]) for i in range(20)]
    try:
        results = run(gather(batcher, model, frames))
    finally:
        batcher.close()
    failed = [i for i, r in enumerate(results) if isinstance(r, BaseException)]
    assert failed == [13]
    assert isinstance(results[13], ValueError)
    for i, r in enumerate(results):
        if i != 13:
            assert r[0].tolist() == [i / 100 * 2]


def test_requests_for_different_models_never_share_a_call() -> None:
    a, b = Recorder(delay_s=0.002), Recorder(delay_s=0.002)
    batcher = MicroBatcher(max_batch_size=64, max_latency_ms=60_000)

    async def mixed() -> list[Any]:
        tasks = [
            batcher.score(m, m, frame_of([i / 10]))
            for i, m in enumerate([a, b, a, a, b, b, a, b, a, b])
        ]
        return await asyncio.gather(*tasks)

    try:
        results = run(mixed())
    finally:
        batcher.close()
    assert [r[0].tolist() for r in results] == [[i / 10 * 2] for i in range(10)]
    assert sum(a.calls) == 5 and sum(b.calls) == 5


def test_a_saturated_queue_sheds_with_503() -> None:
    model = Recorder(delay_s=0.2)
    batcher = MicroBatcher(max_batch_size=1, max_latency_ms=50)
    frames = [frame_of([i / 10]) for i in range(4)]
    try:
        results = run(gather(batcher, model, frames))
    finally:
        batcher.close()
    assert results[0][0].tolist() == [0.0]  # the first was scored at once
    shed = [r for r in results[1:] if isinstance(r, OverloadedError)]
    assert len(shed) == 3  # each waited 200 ms behind a one-row batch, over the 50 ms bound
    assert shed[0].http_status == 503 and "max_latency_ms=50" in shed[0].message
    assert batcher.shed == 3


@pytest.mark.parametrize(("size", "latency"), [(0, 10.0), (8, 0.0)])
def test_limits_must_be_positive(size: int, latency: float) -> None:
    with pytest.raises(ConfigError, match="must be"):
        MicroBatcher(size, latency)


def test_served_with_batching_answers_each_row_like_the_model(
    production: ModelVersion,
    live_server: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A real server with batching on, 200 distinct rows from 16 threads: every response
    holds the model's own answer for the row it sent, and fewer predict calls were made."""
    import loopline as ll

    monkeypatch.setenv("LOOPLINE_SERVE_BATCH_MAX_SIZE", "32")
    monkeypatch.setenv("LOOPLINE_SERVE_BATCH_MAX_LATENCY_MS", "60000")  # correctness, not load
    live = live_server()
    assert live.service.batcher is not None
    model = ll.load_model("models:/churn@production")
    rng = np.random.default_rng(7)
    rows = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    expected = model.predict_proba(rows)

    def send(i: int) -> list[float]:
        body = {"dataframe_split": {"columns": ["a", "b"], "data": [rows.iloc[i].tolist()]}}
        r = live.client.post("/invocations", json=body, headers={"x-request-id": f"r{i}"})
        assert r.status_code == 200, r.text
        assert r.headers["x-request-id"] == f"r{i}"
        return list(r.json()["probabilities"][0])

    with ThreadPoolExecutor(16) as pool:
        got = list(pool.map(send, range(200)))
    np.testing.assert_allclose(np.array(got), expected, rtol=0, atol=1e-12)
    assert live.service.batcher.batches < 200
