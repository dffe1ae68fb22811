"""A monitor's configuration, stored with it (`monitors.config`) and validated on the way in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from loopline.errors import InvalidInputError
from loopline.monitoring._data import window_seconds
from loopline.monitoring._reference import MIN_ROWS, Threshold
from loopline.monitoring._signals import NullRateThreshold
from loopline.monitoring._slo import SLO
from loopline.monitoring._triggers import RetrainPolicy
from loopline.store import Monitor


@dataclass(frozen=True)
class MonitorConfig:
    window: str = "1d"
    features: list[str] | None = None  # None: the model signature's inputs
    # feature or "*" → {stat, warn, alert} for drift, plus {"null_rate": {warn, alert}}
    thresholds: dict[str, dict[str, Any]] = field(default_factory=dict)
    min_rows: int = MIN_ROWS
    lookback: int = 30  # windows re-read and re-judged per run
    slo: dict[str, Any] = field(default_factory=dict)
    retrain: dict[str, Any] = field(default_factory=dict)
    webhooks: list[str] = field(default_factory=list)
    metrics_url: str | None = None  # the server's /metrics, for the error-rate SLO
    slices: list[str] = field(default_factory=list)  # input columns to slice performance by

    def __post_init__(self) -> None:
        window_seconds(self.window)
        for name, spec in self.thresholds.items():
            Threshold.parse(spec, f" for {name!r}")
            NullRateThreshold.parse((spec or {}).get("null_rate"), f" for {name!r}")
        SLO.parse(self.slo)
        RetrainPolicy.parse(self.retrain)
        if self.min_rows < 1 or self.lookback < 1:
            raise InvalidInputError(
                "min_rows and lookback must be at least 1", hint="e.g. min_rows=50, lookback=30"
            )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MonitorConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def from_record(cls, record: Monitor) -> MonitorConfig:
        return cls.from_dict({**record.config, "window": record.window})

    def updated(self, **changes: Any) -> MonitorConfig:
        """A copy with the given settings replaced (None leaves a setting as it is)."""
        return MonitorConfig.from_dict(
            {**self.as_dict(), **{k: v for k, v in changes.items() if v is not None}}
        )


def _pairs(items: list[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(f"{what} {item!r} is not KEY=VALUE", hint=f"e.g. {_EG[what]}")
        out[key.strip()] = value.strip()
    return out


_EG = {
    "threshold": "tenure=0.1,0.2 or tenure=null_rate:0.05,0.1",
    "slo": "latency_p95_ms=100",
    "retrain": "psi=0.2",
}


def _number(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InvalidInputError(f"{what}: {text!r} is not a number", hint="e.g. 0.2") from None


def parse_thresholds(items: list[str]) -> dict[str, dict[str, Any]]:
    """['tenure=0.1,0.2', 'plan=js:0.05,0.1', '*=0.2,0.3', 'tenure=null_rate:0.05,0.1'] →
    per-feature threshold specs (several items for one feature are merged)."""
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        for feature, spec in _pairs([item], "threshold").items():
            stat, _, levels = spec.rpartition(":")
            warn, _, alert = levels.partition(",")
            entry: dict[str, Any] = {"warn": _number(warn, f"threshold {feature}")}
            if alert:
                entry["alert"] = _number(alert, f"threshold {feature}")
            if stat == "null_rate":
                NullRateThreshold.parse(entry, f" for {feature!r}")
                out[feature] = {**out.get(feature, {}), "null_rate": entry}
                continue
            if stat:
                entry["stat"] = stat
            Threshold.parse(entry, f" for {feature!r}")
            out[feature] = {**out.get(feature, {}), **entry}
    return out


def parse_settings(items: list[str], what: str) -> dict[str, Any]:
    """SLO / retrain settings: ['latency_p95_ms=100', 'min.auc=0.8'] → {'latency_p95_ms': 100.0,
    'min': {'auc': 0.8}}; ['off'] disables (retrain)."""
    if items == ["off"]:
        return {"enabled": False}
    out: dict[str, Any] = {}
    for key, value in _pairs(items, what).items():
        group, dot, metric = key.partition(".")
        if dot and group in ("min", "max"):
            out.setdefault(group, {})[metric] = _number(value, f"{what} {key}")
        elif key == "features":
            out[key] = [v for v in value.split(",") if v]
        elif key == "enabled":
            out[key] = value.lower() in ("1", "true", "yes", "on")
        elif key in ("windows", "period_windows"):
            out[key] = int(_number(value, key))
        else:
            out[key] = _number(value, f"{what} {key}")
    return out


def merge_thresholds(
    base: Mapping[str, Mapping[str, Any]], extra: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    return {
        **{k: dict(v) for k, v in base.items()},
        **{k: {**base.get(k, {}), **v} for k, v in extra.items()},
    }


__all__ = ["MonitorConfig", "merge_thresholds", "parse_settings", "parse_thresholds"]
