"""Metric buffering: `log_metric` appends to memory; a background writer thread stores batches.

One SQLite transaction of 10,000 points costs milliseconds while 10,000 transactions cost
seconds, so points are written in batches. The caller never waits for a write: points go
into the batch being filled (`Points`: three array appends, no object per point); every
`flush_every` points the writer is woken, and it takes *everything* buffered so far (a
swap under the lock) and stores it in one transaction. The writer also writes whatever is
buffered every `interval_s` seconds and refreshes the run's heartbeat when idle.

Why take everything, and why columns: the writer shares the GIL with the training loop.
A loop running Python without pause keeps the GIL; the writer gets it back only when the
interpreter forces a switch (every 5 ms, `sys.getswitchinterval()`), and the loop then waits
until the writer blocks again (in SQLite or on a lock). So (1) each stretch of the writer's
Python work is a stall in the loop: it is kept short, with no per-point Python work at all
(the store packs the columns with one NumPy call each); and (2) the writer gets roughly one
stretch per switch interval: a transaction per `flush_every` points could not keep up, one
per wake-up that takes all that accumulated meanwhile does (it grows until it does).
One-off work is done when the run starts, before the loop: a collection of the young GC
generations here, and the writer's first-use costs in `ActiveRun` (`loopline.tracking._run`).

Back-pressure: when `MAX_PENDING * flush_every` points wait for the writer (a slow or
unreachable store), `log_metric` waits until they are written; memory stays bounded by
(MAX_PENDING + 1) * flush_every points, 24 bytes each.

Failures: a batch the store refuses stays queued and is retried every interval (with what
was logged since), so a brief outage loses nothing and interrupts nothing. The failure
reaches the caller when it matters: a `log_metric` that would wait on the stuck writer
raises it instead (the point is then not recorded), `flush()` raises it, and `close()` (run
end, interpreter exit) writes what is left in the caller's thread and raises if the store
still refuses. Nothing is dropped silently.

Durability: a process killed without running its exit handlers loses the points not yet
written: at most `interval_s` seconds of logging, and never more than the bound above.
`ActiveRun.flush()` returns only once every point logged before it is stored.
"""

from __future__ import annotations

import contextlib
import gc
import sys
import threading
import time
from collections.abc import Callable, Iterable

from loopline.errors import InvalidInputError
from loopline.store import PointTuple
from loopline.tracking._points import Appenders, Points

_HEARTBEAT_EVERY_S = 10.0
MAX_PENDING = 20  # flush_every-sized lots waiting for the writer before log_metric waits


class _ShortSwitchInterval:
    """CPython's GIL switch interval, lowered while any writer thread is alive.

    A thread that wants the GIL waits until its holder releases it or the switch interval
    (5 ms by default) passes. The writer's Python work between its I/O calls can so stall the
    training loop for milliseconds, though the work itself is short: at 0.1 ms no call over
    1 ms was measured in a million (ADR-051). The setting is process-wide, so it is set when
    the first writer starts, and put back when the last one stops unless the program changed
    it meanwhile (then the program's value stays).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.holders = 0
        self._saved = 0.0
        self._set = 0.0

    def acquire(self, interval_s: float) -> bool:
        if interval_s <= 0:
            return False
        with self._lock:
            if self.holders == 0:
                self._saved = sys.getswitchinterval()
                sys.setswitchinterval(min(self._saved, interval_s))
                self._set = sys.getswitchinterval()  # as CPython stores it (whole µs)
            self.holders += 1
        return True

    def release(self) -> None:
        with self._lock:
            self.holders -= 1
            if self.holders == 0 and sys.getswitchinterval() == self._set:
                sys.setswitchinterval(self._saved)


SWITCH_INTERVAL = _ShortSwitchInterval()


class MetricBuffer:
    """Thread-safe point buffer drained by its own writer thread; see the module docstring."""

    def __init__(
        self,
        write: Callable[[Points], None],
        heartbeat: Callable[[], None],
        flush_every: int,
        interval_s: float,
        switch_interval_s: float = 0.0,
    ) -> None:
        self._write = write
        self._heartbeat = heartbeat
        self._flush_every = max(1, flush_every)
        self._interval_s = interval_s
        self._batch = Points()  # being filled by the caller
        self._appenders: dict[str, Appenders] = {}  # the batch's, per key: the hot path's
        self._left = self._flush_every  # points until the writer is woken
        self._taken: Points | None = None  # taken by the writer, not yet stored
        self._ready = False  # a batch is due: the writer takes it at once
        self._takes = 0  # batches ever taken, and the last one stored: flush() waits on these
        self._stored = 0
        self._failures = 0  # failed writes so far; a waiting caller raises on a new one
        self._error: BaseException | None = None  # the latest failure
        self._retry_now = False  # a caller is waiting: the writer skips its back-off
        self._stopping = False
        self._writer_done = False  # set by the writer as it exits (after close())
        self._lock = threading.Lock()  # `with self._lock` on the hot path: no Python-level call
        self._cond = threading.Condition(self._lock)
        # Collect the young generations now, before the training loop: starting a run leaves
        # thousands of new objects there, and the first generation-1 collection inside the
        # loop (whichever thread's allocation triggers it) would traverse them all while
        # holding the GIL, 0.5-1.7 ms measured. The survivors move to the old generation,
        # as that collection would have moved them; nothing else changes. (With the
        # collector disabled by the program, no collection comes in the loop either.)
        if gc.isenabled():
            gc.collect(1)
        self._short_switch = SWITCH_INTERVAL.acquire(switch_interval_s)
        self._thread = threading.Thread(target=self._writer, name="loopline-writer", daemon=True)
        self._thread.start()

    # caller side --------------------------------------------------------------------------
    def add(self, key: str, value: float, step: int, timestamp: float) -> None:
        """Buffer one point (the hot path of `log_metric`)."""
        with self._lock:
            self._left -= 1
            if self._left < 0:
                self._due()  # may raise: then the point is not recorded
            to = self._appenders.get(key) or self._new_key(key)
            try:
                to[0](step)  # first: if it fails, nothing of the point is recorded
            except OverflowError:
                raise InvalidInputError(
                    f"metric {key!r} step {step} is outside the 64-bit integer range",
                    hint="log steps between -2**63 and 2**63 - 1",
                ) from None
            to[1](value)
            to[2](timestamp)

    def append(self, point: PointTuple) -> None:
        self.add(*point)

    def extend(self, points: Iterable[PointTuple]) -> None:
        for point in points:
            self.add(*point)

    def _new_key(self, key: str) -> Appenders:
        to = self._appenders[key] = self._batch.appenders(key)
        return to

    def _due(self) -> None:
        # Lock held: `flush_every` more points. Wake the writer; wait if too much is queued.
        self._ready = True
        self._cond.notify_all()
        most = MAX_PENDING * self._flush_every
        self._wait_for(lambda: self._queued() < most)
        self._left = self._flush_every - 1  # this call's point is one of the next lot

    def _queued(self) -> int:
        return len(self._batch) + (len(self._taken) if self._taken is not None else 0)

    def flush(self) -> None:
        """Return once every point appended so far is stored; raise if the store refuses."""
        with self._cond:
            target = self._takes + (1 if len(self._batch) else 0)
            if target == self._stored and self._taken is None:
                return
            self._ready = True
            self._wait_for(lambda: self._stored >= target)

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

    def _take(self) -> Points | None:
        # Lock held: everything buffered joins what is taken but not stored yet (a retry).
        if len(self._batch):
            if self._taken is None:
                self._taken = self._batch
            else:
                self._taken.absorb(self._batch)
            self._batch = Points()
            self._appenders = {}
            self._takes += 1
        self._ready = False
        self._left = self._flush_every
        return self._taken

    def _stored_up_to(self, takes: int) -> None:
        # Lock held: a write of everything taken up to `takes` succeeded.
        self._taken = None
        self._stored = takes
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
        work = self._take()
        if work is not None:
            self._write(work)  # a failure leaves it queued
            self._stored_up_to(self._takes)

    # writer side --------------------------------------------------------------------------
    def _writer(self) -> None:
        try:
            self._loop()
        finally:
            if self._short_switch:
                SWITCH_INTERVAL.release()

    def _loop(self) -> None:
        last_beat = time.monotonic()
        while True:
            with self._cond:
                # a batch that failed is retried once its back-off (below) is over
                self._sleep(lambda: self._ready or self._retry_now or self._taken is not None)
                if self._stopping:  # close() writes the rest from the caller's thread
                    self._writer_done = True
                    self._cond.notify_all()
                    return
                work = self._take()  # the interval is up, or a batch is due: write it
                takes = self._takes
                self._retry_now = False
            if work is None:
                if time.monotonic() - last_beat >= _HEARTBEAT_EVERY_S:
                    last_beat = time.monotonic()
                    # A missed beat is retried at the next one; liveness tolerates a few.
                    with contextlib.suppress(Exception):
                        self._heartbeat()
                continue
            try:
                self._write(work)
            except Exception as exc:  # the batch stays queued: retried after one interval
                with self._cond:
                    self._error = exc
                    self._failures += 1
                    self._cond.notify_all()  # a waiting caller raises it now
                    self._sleep(lambda: self._retry_now)
                continue
            last_beat = time.monotonic()  # a write refreshes the heartbeat too
            with self._cond:
                self._stored_up_to(takes)
                # Wait for the caller's next wake-up (or the interval) even if a batch came
                # due meanwhile: that wait gives the GIL back, so the Python work after this
                # write and before the next one are two short stretches, not one long one.
                self._ready = False

    def _sleep(self, wake: Callable[[], bool]) -> None:
        """Wait (lock held) one interval, or until `wake()` or close()."""
        deadline = time.monotonic() + self._interval_s
        while not wake() and not self._stopping:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._cond.wait(left)


__all__ = ["MAX_PENDING", "SWITCH_INTERVAL", "MetricBuffer"]
