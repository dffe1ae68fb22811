"""Service-level objectives per deployment, judged per window, with error-budget burn.

Objectives (each optional):
- `latency_p95_ms`: 95% of requests answer within this many ms (judged on windows of at
  least 20 requests). Budget: 5% of requests may be slower; burn = slow fraction / 5% (1.0
  spends the budget exactly over the period, 2.0 spends it twice as fast).
- `error_rate`: server errors (HTTP 5xx) / requests stays at or below this. Burn = observed /
  allowed. Capture records answered requests only, so errors come from the server's
  `/metrics` (`metrics_url`), counted between two monitor runs.
- `max_psi`: no feature's PSI against training above this.
- `min` / `max`: labelled performance bounds, e.g. {"auc": 0.8} / {"mae": 12.0}.

Budgets are summed over the last `period_windows` windows (default 30: a month of days).

Each objective in a window is `met`, `violated` or `insufficient` (too little data to judge,
with a `reason`): the word `monitors run` uses for a drift verdict, and for `max_psi` the
same rule, read from the stored verdicts: a feature the drift judge could not judge does
not count, and a small window's PSI counts only when its test found the shift significant.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from loopline.errors import InvalidInputError
from loopline.monitoring._performance import MIN_LABELLED
from loopline.store import WindowResult

# Log-spaced latency histogram edges (ms), kept per window so any threshold can be judged
# later without re-reading the capture: 0.1 ms to ~100 s, 10 edges per decade.
LATENCY_EDGES = np.round(10 ** np.arange(-1, 5.01, 0.1), 6)
# A p95 of a handful of requests is noise: fewer than this in a window is `insufficient`.
MIN_REQUESTS = 20
INSUFFICIENT = "insufficient"  # the drift verdicts' word (`judge`) for too little data


def latency_histogram(latencies_ms: np.ndarray[Any, Any]) -> list[int]:
    counts = np.bincount(
        np.searchsorted(LATENCY_EDGES, latencies_ms, side="right"),
        minlength=LATENCY_EDGES.size + 1,
    )
    return [int(c) for c in counts]


def slower_than(histogram: Sequence[int], threshold_ms: float) -> float:
    """Requests slower than `threshold_ms`, interpolating log-linearly inside its bucket."""
    counts = np.asarray(histogram, dtype="float64")
    i = int(np.searchsorted(LATENCY_EDGES, threshold_ms, side="right"))
    above = counts[i + 1 :].sum()
    if 0 < i < LATENCY_EDGES.size:
        lo, hi = np.log10(LATENCY_EDGES[i - 1]), np.log10(LATENCY_EDGES[i])
        above += counts[i] * (hi - np.log10(threshold_ms)) / (hi - lo)
    elif i == 0:
        above += counts[0]
    return float(above)


@dataclass(frozen=True)
class SLO:
    latency_p95_ms: float | None = 100.0
    error_rate: float | None = 0.01
    max_psi: float | None = 0.2
    min: dict[str, float] = field(default_factory=dict)
    max: dict[str, float] = field(default_factory=dict)
    period_windows: int = 30

    @classmethod
    def parse(cls, spec: Mapping[str, Any] | None) -> SLO:
        spec = dict(spec or {})
        unknown = set(spec) - {f for f in cls.__dataclass_fields__}
        if unknown:
            raise InvalidInputError(
                f"unknown SLO setting(s): {', '.join(sorted(unknown))}",
                hint="use latency_p95_ms, error_rate, max_psi, min, max, period_windows",
            )
        return cls(**spec)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_bound(text: str) -> tuple[str, float]:
    """'auc=0.8' → ('auc', 0.8)."""
    m = re.match(r"^\s*([A-Za-z_][\w.]*)\s*=\s*([-+0-9.eE]+)\s*$", text)
    if m is None:
        raise InvalidInputError(f"{text!r} is not METRIC=VALUE", hint="e.g. auc=0.8")
    return m[1], float(m[2])


def _objective(
    value: float | None, bound: float, lower_is_better: bool, why_none: str = ""
) -> dict[str, Any]:
    if value is None:
        return {"value": None, "objective": bound, "status": INSUFFICIENT, "reason": why_none}
    met = value <= bound if lower_is_better else value >= bound
    return {"value": value, "objective": bound, "status": "met" if met else "violated"}


def _max_psi(features: Mapping[str, Any], bound: float) -> dict[str, Any]:
    """The worst PSI among the features the drift judge judged; violated only by a shift
    its test calls significant (a small window's PSI is mostly noise: `judge` says ok)."""
    judged = {
        n: f
        for n, f in features.items()
        if f.get("psi") is not None and f.get("status") in ("ok", "warning", "critical")
    }
    if not judged:
        reasons = [f"{n}: {f['reason']}" for n, f in features.items() if f.get("reason")]
        why = "; ".join(reasons[:3]) if reasons else "no feature with a PSI in this window"
        return _objective(None, bound, True, f"no feature could be judged ({why})")
    out = _objective(max(f["psi"] for f in judged.values()), bound, True)
    if out["status"] == "violated" and not any(
        f["psi"] > bound and f.get("significant", True) for f in judged.values()
    ):
        out["status"] = "met"
    return out


def window_status(w: WindowResult, slo: SLO) -> dict[str, Any]:
    """Each objective's status in one window."""
    r = w.result
    out: dict[str, Any] = {}
    lat = r.get("latency") or {}
    if slo.latency_p95_ms is not None:
        n = lat.get("requests", 0)
        enough = n >= MIN_REQUESTS
        p95 = lat.get("p95_ms") if enough else None
        why = f"{n} request{'' if n == 1 else 's'} in the window, fewer than {MIN_REQUESTS}"
        out["latency_p95_ms"] = _objective(p95, slo.latency_p95_ms, True, why)
        if enough and lat.get("histogram"):
            slow = slower_than(lat["histogram"], slo.latency_p95_ms) / lat["requests"]
            out["latency_p95_ms"]["burn_rate"] = slow / 0.05
    errors = r.get("errors") or {}
    if slo.error_rate is not None:
        rate = errors["errors"] / errors["requests"] if errors.get("requests") else None
        why = "no request counts from the server's /metrics (--metrics-url)"
        out["error_rate"] = _objective(rate, slo.error_rate, True, why)
        if rate is not None and slo.error_rate > 0:
            out["error_rate"]["burn_rate"] = rate / slo.error_rate
    if slo.max_psi is not None:
        out["max_psi"] = _max_psi(r.get("features") or {}, slo.max_psi)
    perf = r.get("performance") or {}
    metrics = perf.get("metrics") or {}
    labelled = perf.get("n_labelled", 0)
    for prefix, bounds in (("min", slo.min), ("max", slo.max)):
        for name, bound in bounds.items():
            why = (
                f"{labelled} labelled rows in the window, fewer than {MIN_LABELLED}"
                if labelled < MIN_LABELLED
                else f"no {name} among the window's metrics"
            )
            out[f"{prefix}.{name}"] = _objective(metrics.get(name), bound, prefix == "max", why)
    return out


def error_budget(history: Sequence[WindowResult], slo: SLO) -> dict[str, Any]:
    """Budget use over the SLO period for the request-based objectives."""
    period = list(history)[-slo.period_windows :]
    out: dict[str, Any] = {"windows": len(period)}
    if slo.latency_p95_ms is not None:
        total = slow = 0.0
        for w in period:
            lat = w.result.get("latency") or {}
            if lat.get("histogram"):
                total += lat.get("requests", 0)
                slow += slower_than(lat["histogram"], slo.latency_p95_ms)
        if total:
            burn = (slow / total) / 0.05
            out["latency_p95_ms"] = {"requests": total, "slow": slow, "burn": burn}
    if slo.error_rate is not None:
        reqs = sum((w.result.get("errors") or {}).get("requests", 0) for w in period)
        errs = sum((w.result.get("errors") or {}).get("errors", 0) for w in period)
        if reqs and slo.error_rate > 0:
            out["error_rate"] = {
                "requests": reqs,
                "errors": errs,
                "burn": (errs / reqs) / slo.error_rate,
            }
    for key in ("latency_p95_ms", "error_rate"):
        if key in out:
            out[key]["remaining"] = max(0.0, 1.0 - out[key]["burn"])
    return out


def slo_report(history: Sequence[WindowResult], slo: SLO) -> dict[str, Any]:
    windows: list[dict[str, Any]] = []
    for w in history:
        objectives = window_status(w, slo)
        states = [o["status"] for o in objectives.values()]
        status = "violated" if "violated" in states else "met" if "met" in states else INSUFFICIENT
        windows.append({"start": w.start, "end": w.end, "objectives": objectives, "status": status})
    return {"slo": slo.as_dict(), "windows": windows, "budget": error_budget(history, slo)}


__all__ = [
    "INSUFFICIENT",
    "LATENCY_EDGES",
    "SLO",
    "error_budget",
    "latency_histogram",
    "parse_bound",
    "slo_report",
    "slower_than",
    "window_status",
]
