"""Prometheus metrics of one serving app (its own registry, so apps never share counters).

Names follow Prometheus conventions and pass `promtool check metrics`: counters end in
`_total`, base units in the name (`_seconds`), nothing else ends in `_total`. Requests are
labelled by `protocol` (mlflow | oip), `route` (the path template that answered), `arm` and
`code`. `/metrics` speaks OpenMetrics when the scraper's `Accept` asks for it, the plain text
format otherwise.

With several worker processes (`loopline models serve --workers N`), each worker counts in its own
process; Prometheus scrapes whichever worker the load balancer picks. So in that mode
(`PROMETHEUS_MULTIPROC_DIR` set, which `serve` does) the metrics live in prometheus_client's
per-process files in that folder and `/metrics` in any worker reports the sum over all of
them: counters and histograms add up (a stopped worker's counts stay in the sum, so totals
never go down), the capture queue depth is summed over live workers, the model-info and
registry gauges take the max.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# The path template of each protocol's scoring route; `observe_request` takes another one
# (e.g. the pinned-version route) when the caller knows it.
ROUTES = {"mlflow": "/invocations", "oip": "/v2/models/{name}/infer"}

_DEPTH = ("loopline_capture_queue_depth", "Requests waiting to be captured")
_DROPPED = ("loopline_capture_dropped", "Requests not captured because the queue was full")
_WRITTEN = ("loopline_capture_rows_written", "Prediction rows written by capture")


def multiprocess() -> bool:
    """Whether metrics are shared between worker processes through files."""
    return bool(os.environ.get(MULTIPROC_ENV))


Source = Callable[[], float]


class _CaptureCollector:
    """Single process: the capture's own counters, read at scrape time (0 while unbound)."""

    def __init__(self) -> None:
        self.sources: tuple[Source, Source, Source] | None = None

    def collect(self) -> Iterable[Metric]:
        depth, dropped, written = (
            (s() for s in self.sources) if self.sources is not None else (0.0, 0.0, 0.0)
        )
        yield GaugeMetricFamily(*_DEPTH, value=depth)
        yield CounterMetricFamily(*_DROPPED, value=dropped)
        yield CounterMetricFamily(*_WRITTEN, value=written)


class _Refresh:
    """A collector that yields nothing: it updates this worker's shared values just before
    the multiprocess collector reads every worker's files, so the scraped worker is current."""

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
            "Scoring requests by protocol, route template, arm and status code",
            ["protocol", "route", "arm", "code"],
            registry=r,
        )
        self.latency = Histogram(
            "loopline_request_latency",
            "Scoring latency by protocol, route template and arm",
            ["protocol", "route", "arm"],
            unit="seconds",
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
        self._capture = _CaptureCollector()
        self._sources: tuple[Source, Source, Source] | None = None
        self._copied = (0.0, 0.0)  # dropped, written: already added to the shared counters
        self._lock = threading.Lock()
        self._info: tuple[str, ...] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if not self.shared:
            self.registry.register(self._capture)
            return
        from prometheus_client import multiprocess as mp

        # A worker's capture counts are plain ints in its process, so they are copied into
        # its files: the depth as a gauge summed over live workers, the counts as counters
        # grown by what changed since the last copy. Counter files outlive their worker,
        # so the sum keeps a stopped worker's final counts and never goes down.
        self.capture_depth = Gauge(*_DEPTH, multiprocess_mode="livesum")
        self.capture_dropped = Counter(*_DROPPED)
        self.capture_written = Counter(*_WRITTEN)
        self.registry.register(_Refresh(self.refresh))
        mp.MultiProcessCollector(self.registry)  # type: ignore[no-untyped-call]

    def bind_capture(self, depth: Source, dropped: Source, written: Source) -> None:
        """Read capture counters at scrape time instead of updating them per request."""
        if not self.shared:
            self._capture.sources = (depth, dropped, written)
            return
        # A function is read only in its own process: copy the values into the shared files
        # at each scrape of this worker and every `interval` seconds (see `start`).
        self._sources = (depth, dropped, written)
        self.refresh()

    def refresh(self) -> None:
        """Shared mode: copy this worker's capture figures into its metric files."""
        if self._sources is None:
            return
        depth, dropped, written = self._sources
        with self._lock:  # scrapes and the refresh thread: each increment added once
            now = (float(dropped()), float(written()))
            self.capture_depth.set(depth())
            self.capture_dropped.inc(max(now[0] - self._copied[0], 0.0))
            self.capture_written.inc(max(now[1] - self._copied[1], 0.0))
            self._copied = now

    def observe_request(
        self, protocol: str, arm: str, code: int, seconds: float, route: str | None = None
    ) -> None:
        """One scoring request, counted by its outcome and timed; `route` is the path
        template that answered (default: the protocol's scoring route)."""
        path = route or ROUTES.get(protocol, "")
        self.requests.labels(protocol, path, arm, str(code)).inc()
        self.latency.labels(protocol, path, arm).observe(seconds)

    def exposition(self, accept: str) -> tuple[bytes, str]:
        """The `/metrics` body and its content type, for the scraper's `Accept` header:
        OpenMetrics 1.0 when asked for, the Prometheus text format (0.0.4) otherwise."""
        encode, content_type = choose_encoder(accept)
        return encode(self.registry), content_type

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
        """In shared mode, keep this worker's capture figures current in the shared files."""
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


__all__ = ["MULTIPROC_ENV", "ROUTES", "ServingMetrics", "multiprocess"]
