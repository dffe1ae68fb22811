"""Metric buffering: `log_metric` appends to memory; a background thread writes batches.

One SQLite transaction of 10,000 rows costs tens of milliseconds while 10,000
transactions cost tens of seconds, so points are written in batches: when the buffer
reaches `flush_every` points, every `interval_s` seconds from a daemon thread (which
also refreshes the run's heartbeat), and at run end. A crash loses at most one interval.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from loopline.store import PointTuple

_HEARTBEAT_EVERY_S = 10.0


class MetricBuffer:
    """Thread-safe append-only buffer flushed by size, by time and on close."""

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
        self._points: list[PointTuple] = []
        self._lock = threading.Lock()
        # Serialises writers so points reach the store in the order they were logged.
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="loopline-flush", daemon=True)
        self._thread.start()

    def append(self, point: PointTuple) -> None:
        with self._lock:
            self._points.append(point)
            full = len(self._points) >= self._flush_every
        if full:
            self.flush()

    def extend(self, points: list[PointTuple]) -> None:
        with self._lock:
            self._points.extend(points)
            full = len(self._points) >= self._flush_every
        if full:
            self.flush()

    def flush(self) -> None:
        with self._write_lock:
            with self._lock:
                batch, self._points = self._points, []
            if batch:
                try:
                    self._write(batch)
                except BaseException:
                    with self._lock:  # keep the points for the next attempt
                        self._points[:0] = batch
                    raise

    def _loop(self) -> None:
        since_beat = 0.0
        while not self._stop.wait(self._interval_s):
            try:
                if self._points:
                    self.flush()
                    since_beat = 0.0
                else:
                    since_beat += self._interval_s
                    if since_beat >= _HEARTBEAT_EVERY_S:
                        self._heartbeat()
                        since_beat = 0.0
            except Exception:
                # Points stay buffered (see flush); close() retries and raises if the
                # store is still failing, so nothing is dropped silently.
                continue

    def close(self) -> None:
        """Stop the thread and write what is left (raises if the store refuses it)."""
        self._stop.set()
        self._thread.join()
        self.flush()


__all__ = ["MetricBuffer"]
