"""Adaptive micro-batching: concurrent requests scored together in one `predict` call.

Most tabular models cost nearly the same for one row as for sixty-four (scikit-learn's
input checks and per-call set-up dominate a one-row `predict_proba`), so under concurrent
load the cheapest way to answer more requests is to score them together.

The policy needs no batching window: a request queues its (already decoded and checked)
rows and the batch is scored on the next turn of the event loop, after every request the
loop already had in hand has queued its own. Alone, a request waits one loop turn (tens of
microseconds); under load, everything that arrived while the previous batch ran goes into
the next one, up to `max_batch_size` rows per call. The batch size therefore follows the
load by itself. `max_latency_ms` bounds the queue: a request
that has waited longer than that for its batch to start is answered 503 with
`Retry-After` (the server is saturated; a client or load balancer should go elsewhere)
instead of piling up latency for everyone behind it.

A batch whose `predict` raises is scored again request by request, so one bad request
fails alone and the others are still answered.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from loopline.errors import ConfigError, LooplineError

Prediction = tuple[np.ndarray[Any, Any], np.ndarray[Any, Any] | None]
Predict = Callable[[pd.DataFrame], Prediction]


class OverloadedError(LooplineError):
    """The batch queue is saturated: the request waited past `max_latency_ms`."""

    code = "overloaded"
    http_status = 503


@dataclass
class _Job:
    key: object  # what may share a predict call: the served model object
    predict: Predict
    frame: pd.DataFrame
    future: asyncio.Future[Prediction]
    queued: float = field(default_factory=time.perf_counter)


class MicroBatcher:
    """Scores concurrent requests for the same model in one call (see module doc)."""

    def __init__(self, max_batch_size: int = 64, max_latency_ms: float = 1000.0) -> None:
        if max_batch_size < 1:
            raise ConfigError(
                f"max_batch_size={max_batch_size} must be at least 1",
                hint="e.g. --batch-max-size 64",
            )
        if max_latency_ms <= 0:
            raise ConfigError(
                f"max_latency_ms={max_latency_ms} must be above 0",
                hint="e.g. --batch-max-latency-ms 1000",
            )
        self.max_batch_size = max_batch_size
        self.max_latency_ms = max_latency_ms
        self._pending: deque[_Job] = deque()
        self._scheduled = False
        self.batches = 0  # predict calls made (read by tests and /metrics)
        self.shed = 0  # requests refused with 503

    def get_params(self) -> dict[str, Any]:
        return {"max_batch_size": self.max_batch_size, "max_latency_ms": self.max_latency_ms}

    async def score(self, key: object, predict: Predict, frame: pd.DataFrame) -> Prediction:
        """`predict(frame)`'s answer, computed in a batch with whatever else is queued."""
        loop = asyncio.get_running_loop()
        job = _Job(key, predict, frame, loop.create_future())
        self._pending.append(job)
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._dispatch, loop)
        return await job.future

    def close(self) -> None:
        """Nothing to release: batches run on the event loop (kept for the runtime's stop)."""

    def _dispatch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Score the next batch, on the event loop itself.

        Running it here rather than on a worker thread is what makes batching pay in
        CPython: a worker thread would fight the event loop for the GIL and wait up to a
        switch interval (5 ms) at every hand-over, so a batch of 64 took tens of
        milliseconds. Called with `call_soon`, it runs after every request the loop
        already had in hand has decoded and queued its rows: those are the batch."""
        self._scheduled = False
        batch = self._next_batch()
        if batch:
            self.batches += 1
            for job, outcome in zip(batch, _run(batch), strict=True):
                if job.future.done():  # the client went away and the request was cancelled
                    continue
                if isinstance(outcome, BaseException):
                    job.future.set_exception(outcome)
                else:
                    job.future.set_result(outcome)
        if self._pending and not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._dispatch, loop)

    def _next_batch(self) -> list[_Job]:
        now = time.perf_counter()
        limit_s = self.max_latency_ms / 1000
        while self._pending and now - self._pending[0].queued > limit_s:
            self._shed(self._pending.popleft(), now)
        if not self._pending:
            return []
        first = self._pending.popleft()
        batch, rows = [first], len(first.frame)
        # Only requests for the same model object share a call; order is kept, so a
        # request for another model waits for the next batch, never longer.
        while self._pending and self._pending[0].key is first.key:
            size = len(self._pending[0].frame)
            if rows + size > self.max_batch_size:
                break
            batch.append(self._pending.popleft())
            rows += size
        return batch

    def _shed(self, job: _Job, now: float) -> None:
        self.shed += 1
        waited = (now - job.queued) * 1000
        if not job.future.done():
            job.future.set_exception(
                OverloadedError(
                    f"the server is saturated: the request waited {waited:.0f} ms for the model, "
                    f"over max_latency_ms={self.max_latency_ms:g}",
                    hint="retry after a moment or on another replica; add workers or replicas "
                    "for this load",
                    details={"waited_ms": round(waited, 1), "max_latency_ms": self.max_latency_ms},
                )
            )


def _run(batch: list[_Job]) -> list[Prediction | BaseException]:
    """One predict call for the batch, each request's share back."""
    if len(batch) == 1:
        return [_alone(batch[0])]
    frames = [job.frame for job in batch]
    try:
        labels, proba = batch[0].predict(pd.concat(frames, ignore_index=True))
    except Exception:  # find the culprit: each request alone, so only it fails
        return [_alone(job) for job in batch]
    out: list[Prediction | BaseException] = []
    start = 0
    for frame in frames:
        end = start + len(frame)
        out.append((labels[start:end], None if proba is None else proba[start:end]))
        start = end
    return out


def _alone(job: _Job) -> Prediction | BaseException:
    try:
        return job.predict(job.frame)
    except Exception as exc:
        return exc


__all__ = ["MicroBatcher", "OverloadedError"]
