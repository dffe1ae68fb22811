"""Metric buffering: `log_metric` appends to memory; a background writer thread stores batches.

One SQLite transaction of 10,000 rows costs tens of milliseconds while 10,000 transactions
cost tens of seconds, so points are written in batches. The caller never waits for a write:
when the current batch reaches `flush_every` points it is handed to the writer thread (a list
swap), which also writes whatever is buffered every `interval_s` seconds and refreshes the
run's heartbeat when idle.

Back-pressure: at most `MAX_PENDING` full batches wait for the writer. If the writer falls
that far behind (a slow or unreachable store), the next `log_metric` waits until a batch is
written; memory stays bounded by (MAX_PENDING + 1) * flush_every points.

Failures: a batch the store refuses stays queued and is retried every interval, so a brief
outage loses nothing and interrupts nothing. The failure reaches the caller when it matters:
a `log_metric` that would wait on the stuck writer raises it instead (the point is then not
recorded), `flush()` raises it, and `close()` (run end, interpreter exit) writes what is left
in the caller's thread and raises if the store still refuses. Nothing is dropped silently.

Durability: a process killed without running its exit handlers loses the points not yet
written: at most `interval_s` seconds of logging, and never more than the bound above.
`ActiveRun.flush()` returns only once every point logged before it is stored.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable

from loopline.store import PointTuple

_HEARTBEAT_EVERY_S = 10.0
MAX_PENDING = 4  # full batches waiting for the writer before log_metric waits


class MetricBuffer:
    """Thread-safe point buffer drained by its own writer thread; see the module docstring."""

    def __init__(
        self,
        write: Callable[[list[PointTuple]], None],
        heartbeat: Callable[[], None],
        flush_every: int,
        interval_s: float,
    ) -> None:
        self._write = write
        self._heartbeat = heartbeat
        self._flush_every = max(1, flush_every)
        self._interval_s = interval_s
        self._points: list[PointTuple] = []  # the batch being filled by the caller
        self._pending: list[list[PointTuple]] = []  # handed over, oldest first
        self._handed = 0  # batches ever handed over, and ever written: flush() waits on these
        self._written = 0
        self._failures = 0  # failed writes so far; a waiting caller raises on a new one
        self._error: BaseException | None = None  # the latest failure
        self._retry_now = False  # a caller is waiting: the writer skips its back-off
        self._stopping = False
        self._writer_done = False  # set by the writer as it exits (after close())
        self._lock = threading.Lock()  # `with self._lock` on the hot path: no Python-level call
        self._cond = threading.Condition(self._lock)
        self._thread = threading.Thread(target=self._loop, name="loopline-writer", daemon=True)
        self._thread.start()

    # caller side --------------------------------------------------------------------------
    def append(self, point: PointTuple) -> None:
        with self._lock:
            if len(self._points) >= self._flush_every:
                self._wait_for(lambda: len(self._pending) < MAX_PENDING)
                self._hand_over()
            self._points.append(point)

    def extend(self, points: Iterable[PointTuple]) -> None:
        for point in points:
            self.append(point)

    def flush(self) -> None:
        """Return once every point appended so far is stored; raise if the store refuses."""
        with self._cond:
            if self._points:
                self._hand_over()
            target = self._handed
            self._wait_for(lambda: self._written >= target)

    def close(self) -> None:
        """Stop the writer and store what is left from this thread (raises if the store
        refuses; the points stay buffered for another attempt)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()
        with self._cond:
            self._write_rest()

    def _hand_over(self) -> None:
        # Called with the lock held.
        self._pending.append(self._points)
        self._points = []
        self._handed += 1
        self._cond.notify_all()

    def _wait_for(self, done: Callable[[], bool]) -> None:
        """Wait (lock held) until `done()`; raise the writer's next failure instead."""
        seen = self._failures
        while not done():
            if self._writer_done:  # closed: no writer any more, write from this thread
                self._write_rest()
                return
            if self._failures != seen:
                assert self._error is not None
                raise self._error
            self._retry_now = True
            self._cond.notify_all()
            self._cond.wait()

    def _write_rest(self) -> None:
        # Called with the lock held, once the writer has exited: nothing else writes.
        if self._points:
            self._hand_over()
        while self._pending:
            self._write(self._pending[0])  # a failure leaves it (and the rest) queued
            self._pending.pop(0)
            self._written += 1

    # writer side --------------------------------------------------------------------------
    def _loop(self) -> None:
        last_beat = time.monotonic()
        while True:
            with self._cond:
                self._sleep(lambda: bool(self._pending))
                if self._stopping:  # close() writes the rest from the caller's thread
                    self._writer_done = True
                    self._cond.notify_all()
                    return
                if not self._pending and self._points:  # the interval is up: write it anyway
                    self._hand_over()
                batch = self._pending[0] if self._pending else None
                self._retry_now = False
            if batch is None:
                if time.monotonic() - last_beat >= _HEARTBEAT_EVERY_S:
                    last_beat = time.monotonic()
                    # A missed beat is retried at the next one; liveness tolerates a few.
                    with contextlib.suppress(Exception):
                        self._heartbeat()
                continue
            try:
                self._write(batch)
            except Exception as exc:  # the batch stays queued: retried after one interval
                with self._cond:
                    self._error = exc
                    self._failures += 1
                    self._cond.notify_all()  # a waiting caller raises it now
                    self._sleep(lambda: self._retry_now)
                continue
            last_beat = time.monotonic()  # a write refreshes the heartbeat too
            with self._cond:
                self._pending.pop(0)
                self._written += 1
                self._cond.notify_all()

    def _sleep(self, wake: Callable[[], bool]) -> None:
        """Wait (lock held) one interval, or until `wake()` or close()."""
        deadline = time.monotonic() + self._interval_s
        while not wake() and not self._stopping:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._cond.wait(left)


__all__ = ["MAX_PENDING", "MetricBuffer"]
