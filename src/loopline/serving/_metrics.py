"""Prometheus metrics of one serving app (its own registry, so apps never share counters)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class ServingMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
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
        )
        self.swaps = Counter(
            "loopline_model_swaps", "Hot swaps by outcome", ["outcome"], registry=r
        )
        self.capture_depth = Gauge(
            "loopline_capture_queue_depth", "Requests waiting to be captured", registry=r
        )
        self.capture_dropped = Gauge(
            "loopline_capture_dropped_total", "Requests not captured: queue full", registry=r
        )
        self.capture_written = Gauge(
            "loopline_capture_rows_written_total", "Prediction rows written", registry=r
        )

    def bind_capture(
        self, depth: Callable[[], float], dropped: Callable[[], float], written: Callable[[], float]
    ) -> None:
        """Read capture counters at scrape time instead of updating them per request."""
        self.capture_depth.set_function(depth)
        self.capture_dropped.set_function(dropped)
        self.capture_written.set_function(written)


__all__ = ["ServingMetrics"]
