"""Per-arm health over a sliding window, and the pure canary verdict built on it.

Each arm keeps (time, ok, latency, score) for its recent requests. The canary verdict
compares the challenger against the deployment's SLO: error rate, p95 latency, and the
PSI of its scores against the champion's scores over the same window.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from loopline.stats import psi

PSI_MIN_POINTS = 200


@dataclass(frozen=True)
class Slo:
    """Canary thresholds; `min_requests` guards against judging on a handful of requests."""

    max_error_rate: float = 0.01
    max_p95_ms: float = 100.0
    max_psi: float = 0.2
    min_requests: int = 20
    window_s: float = 10.0

    def get_params(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Window:
    requests: int
    errors: int
    p95_ms: float
    scores: np.ndarray[Any, Any]

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0


class ArmStats:
    """Thread-safe sliding window of one arm's outcomes (bounded memory)."""

    def __init__(self, window_s: float = 10.0, max_items: int = 50_000) -> None:
        self.window_s = window_s
        self._items: deque[tuple[float, bool, float, float]] = deque(maxlen=max_items)
        self._lock = threading.Lock()

    def record(self, ok: bool, latency_ms: float, score: float = float("nan")) -> None:
        with self._lock:
            self._items.append((time.monotonic(), ok, latency_ms, score))

    def window(self, now: float | None = None) -> Window:
        cutoff = (time.monotonic() if now is None else now) - self.window_s
        with self._lock:
            items = [i for i in self._items if i[0] >= cutoff]
        if not items:
            return Window(0, 0, 0.0, np.array([]))
        arr = np.array([(ok, lat, score) for _, ok, lat, score in items], dtype="float64")
        return Window(
            requests=len(items),
            errors=int((arr[:, 0] == 0).sum()),
            p95_ms=float(np.percentile(arr[:, 1], 95)),
            scores=arr[:, 2][np.isfinite(arr[:, 2])],
        )


def canary_violations(challenger: Window, champion: Window, slo: Slo) -> list[str]:
    """Which SLO lines the challenger breaks over the window; empty when healthy or when
    there is not yet enough traffic to judge."""
    if challenger.requests < slo.min_requests:
        return []
    out = []
    if challenger.error_rate > slo.max_error_rate:
        out.append(f"error rate {challenger.error_rate:.1%} > {slo.max_error_rate:.1%}")
    if challenger.p95_ms > slo.max_p95_ms:
        out.append(f"p95 latency {challenger.p95_ms:.0f} ms > {slo.max_p95_ms:.0f} ms")
    # PSI over ten bins is noise below a few hundred points; judge it only with enough.
    if min(challenger.scores.size, champion.scores.size) >= max(slo.min_requests, PSI_MIN_POINTS):
        drift = psi(champion.scores, challenger.scores)
        if drift > slo.max_psi:
            out.append(f"prediction PSI vs champion {drift:.3f} > {slo.max_psi}")
    return out


__all__ = ["ArmStats", "Slo", "Window", "canary_violations"]
