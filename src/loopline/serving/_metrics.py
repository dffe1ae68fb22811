"""Prometheus metrics of one serving app (its own registry, so apps never share counters).

With several worker processes (`loopline serve --workers N`), each worker counts in its own
process; Prometheus scrapes whichever worker the load balancer picks. So in that mode
(`PROMETHEUS_MULTIPROC_DIR` set, which `serve` does) the metrics live in prometheus_client's
per-process files in that folder and `/metrics` in any worker reports the sum over all of
them: counters and histograms add up, capture gauges are summed over live workers, the
model-info gauge takes the max.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess() -> bool:
    """Whether metrics are shared between worker processes through files."""
    return bool(os.environ.get(MULTIPROC_ENV))


class _Refresh:
    """A collector that yields nothing: it updates this worker's gauges just before the
    multiprocess collector reads every worker's files, so the scraped worker is current."""

    def __init__(self, refresh: Callable[[], None]) -> None:
        self._refresh = refresh

    def collect(self) -> Iterable[Any]:
        self._refresh()
        return []


class ServingMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.shared = multiprocess()
        # Shared: the metrics write to per-process files (no registry of their own) and the
        # registry holds a collector that sums the files of every worker.
        r = None if self.shared else self.registry
        self.requests = Counter(
            "loopline_requests",
            "Scoring requests by route, arm and status code",
            ["route", "arm", "code"],
            registry=r,
        )
        self.latency = Histogram(
            "loopline_request_latency_seconds",
            "Scoring latency by route and arm",
            ["route", "arm"],
            buckets=_BUCKETS,
            registry=r,
        )
        self.rows = Counter("loopline_prediction_rows", "Rows scored", ["arm"], registry=r)
        self.model_info = Gauge(
            "loopline_model_info",
            "The served model version (value 1)",
            ["model", "version", "sha256", "arm"],
            registry=r,
            multiprocess_mode="livemax",
        )
        self.swaps = Counter(
            "loopline_model_swaps", "Hot swaps by outcome", ["outcome"], registry=r
        )
        # Reconciliation with the registry: what the followed alias points at, and whether
        # this server serves something else (a swap failed and is being retried). With
        # several workers the max is reported: one worker out of step is a disagreement.
        self.registry_version = Gauge(
            "loopline_registry_version",
            "The version the registry's alias points at (as last read by the server)",
            ["model", "alias"],
            registry=r,
            multiprocess_mode="livemax",
        )
        self.version_mismatch = Gauge(
            "loopline_registry_version_mismatch",
            "1 while the served version differs from the registry alias's version, else 0",
            ["model", "alias"],
            registry=r,
            multiprocess_mode="livemax",
        )
        self.capture_depth = Gauge(
            "loopline_capture_queue_depth",
            "Requests waiting to be captured",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.capture_dropped = Gauge(
            "loopline_capture_dropped_total",
            "Requests not captured: queue full",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.capture_written = Gauge(
            "loopline_capture_rows_written_total",
            "Prediction rows written",
            registry=r,
            multiprocess_mode="livesum",
        )
        self._sources: tuple[Callable[[], float], ...] | None = None
        self._info: tuple[str, ...] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if self.shared:
            from prometheus_client import multiprocess as mp

            self.registry.register(_Refresh(self.refresh))
            mp.MultiProcessCollector(self.registry)  # type: ignore[no-untyped-call]

    def bind_capture(
        self, depth: Callable[[], float], dropped: Callable[[], float], written: Callable[[], float]
    ) -> None:
        """Read capture counters at scrape time instead of updating them per request."""
        if not self.shared:
            self.capture_depth.set_function(depth)
            self.capture_dropped.set_function(dropped)
            self.capture_written.set_function(written)
            return
        # A function is read only in its own process: copy the values into the shared files
        # at each scrape of this worker and every `interval` seconds (see `start`).
        self._sources = (depth, dropped, written)
        self.refresh()

    def refresh(self) -> None:
        if self._sources is None:
            return
        depth, dropped, written = self._sources
        self.capture_depth.set(depth())
        self.capture_dropped.set(dropped())
        self.capture_written.set(written())

    def observe_request(self, protocol: str, arm: str, code: int, seconds: float) -> None:
        """One scoring request, counted by its outcome and timed."""
        self.requests.labels(protocol, arm, str(code)).inc()
        self.latency.labels(protocol, arm).observe(seconds)

    def exposition(self, accept: str) -> tuple[bytes, str]:
        """The `/metrics` body and its content type, for the scraper's `Accept` header."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def publish_model(self, model: str, version: str, sha256: str, arm: str) -> None:
        """The one served version: its info series 1, the one it replaces 0 (a worker's
        file keeps every series it ever set, so the old one must be lowered, not dropped)."""
        labels = (model, version, sha256, arm)
        if self._info is not None and self._info != labels:
            self.model_info.labels(*self._info).set(0)
            if not self.shared:
                self.model_info.remove(*self._info)
        self.model_info.labels(*labels).set(1)
        self._info = labels

    def publish_registry(self, model: str, alias: str, version: int, mismatch: bool) -> None:
        """What the registry says the alias holds, and whether the served version differs."""
        self.registry_version.labels(model, alias).set(version)
        self.version_mismatch.labels(model, alias).set(1 if mismatch else 0)

    def start(self, interval_s: float = 0.5) -> None:
        """In shared mode, keep this worker's capture gauges current in the shared files."""
        if not self.shared or self._sources is None or self._thread is not None:
            return

        def loop() -> None:
            while not self._stop.wait(interval_s):
                self.refresh()

        self._thread = threading.Thread(target=loop, name="loopline-metrics", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
            self._thread = None
        if self.shared:
            self.refresh()
            from prometheus_client import multiprocess as mp

            mp.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


__all__ = ["MULTIPROC_ENV", "ServingMetrics", "multiprocess"]
