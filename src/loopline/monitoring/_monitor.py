"""DriftMonitor: captured (or batch-scored) rows cut into windows, each compared with

- the training reference of the model version the URI points at (data drift),
- the window before it (sudden change: both sides raw, so every statistic is exact),
- for the prediction distribution, the first window of that version in the lookback (output
  drift; the reference profile holds no predictions, so the version's own start is the
  baseline);

and checked for column signals against the training profile (null rate, all null, constant,
vanished and new columns: see `_signals`), stored under `result["signals"]`.

sklearn-style: the constructor only records parameters (`get_params()`), `compute()` does the
work and returns one `WindowResult` per window, oldest first. Storing, alerting and retrain
triggers are `run_monitor`'s job.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loopline.config import load_settings
from loopline.errors import InvalidInputError
from loopline.monitoring._data import Scored, load_capture, load_scored, window_seconds
from loopline.monitoring._reference import (
    MIN_ROWS,
    Threshold,
    feature_names,
    judge,
    references,
    training_dataset,
)
from loopline.monitoring._signals import (
    NullRateThreshold,
    column_signals,
    explaining,
    schema_signals,
)
from loopline.monitoring._slo import latency_histogram
from loopline.registry import get_version
from loopline.stats import Reference, column_drift, reference_from_values
from loopline.store import MetadataStore, ModelVersion, WindowResult

LOOKBACK_WINDOWS = 30


def _latency(meta: pd.DataFrame) -> dict[str, Any]:
    # Every row of a request carries the request's latency: count each request once.
    per_request = meta.drop_duplicates("request_id")["latency_ms"].to_numpy(dtype="float64")
    per_request = per_request[np.isfinite(per_request)]
    if per_request.size == 0:
        return {"requests": 0}
    p50, p95, p99 = (float(v) for v in np.percentile(per_request, [50, 95, 99]))
    return {
        "requests": int(per_request.size),
        "p50_ms": p50,
        "p95_ms": p95,
        "p99_ms": p99,
        "histogram": latency_histogram(per_request),
    }


def _outputs(meta: pd.DataFrame) -> pd.Series:
    """The prediction distribution to watch: the positive-class probability of binary
    classifiers, else the predicted value (numbers for regressors, labels for classifiers)."""
    prob = meta.get("probability")
    if prob is not None and prob.notna().any():
        return prob.astype("float64")
    values = meta["prediction"].map(lambda v: v[0] if isinstance(v, list) and v else v)
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().all():
        return numeric.astype("float64")
    return values.astype(str)


def _slim(stats: Mapping[str, Any], verdict: Mapping[str, Any]) -> dict[str, Any]:
    keep = {k: v for k, v in stats.items() if k != "unseen" or v}
    return {**keep, **verdict}


@dataclass(frozen=True)
class _Known:
    """What a window's columns are checked against."""

    expected: set[str]  # columns the signature or the training data knows
    watched: list[str]  # monitored columns with a reference (absent from a window: vanished)
    profiles: Mapping[str, Any]  # training profile per column
    n_rows: int | None  # training rows


class DriftMonitor:
    """Data, sudden-change and output drift of one model URI, per capture window."""

    def __init__(
        self,
        uri: str,
        window: str = "1d",
        *,
        features: Sequence[str] | None = None,
        thresholds: Mapping[str, Mapping[str, Any]] | None = None,
        min_rows: int = MIN_ROWS,
        lookback: int = LOOKBACK_WINDOWS,
        data: str | Path | None = None,
    ) -> None:
        self.uri = uri
        self.window = window
        self.features = features
        self.thresholds = thresholds
        self.min_rows = min_rows
        self.lookback = lookback
        self.data = data

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {
            "uri": self.uri,
            "window": self.window,
            "features": list(self.features) if self.features is not None else None,
            "thresholds": dict(self.thresholds or {}),
            "min_rows": self.min_rows,
            "lookback": self.lookback,
            "data": str(self.data) if self.data is not None else None,
        }

    def threshold(self, feature: str) -> Threshold:
        specs = self.thresholds or {}
        base = Threshold.parse(specs.get("*"), " for all features")
        spec = specs.get(feature)
        if spec is None:
            return base
        return Threshold.parse({**base.as_dict(), **spec}, f" for {feature!r}")

    def null_threshold(self, feature: str) -> NullRateThreshold:
        specs = self.thresholds or {}
        base = dict((specs.get("*") or {}).get("null_rate") or {})
        own = dict((specs.get(feature) or {}).get("null_rate") or {})
        return NullRateThreshold.parse({**base, **own}, f" for {feature!r}")

    def version(self) -> ModelVersion:
        return get_version(self.uri)

    def scored(self, version: ModelVersion, now: float) -> Scored:
        if self.data is not None:
            return load_scored(Path(self.data))
        since = now - window_seconds(self.window) * self.lookback
        return load_capture(load_settings().home / "capture", version.model, since)

    def compute(
        self, store: MetadataStore, now: float | None = None, rows: Scored | None = None
    ) -> tuple[list[WindowResult], dict[str, Any]]:
        """(window results oldest first, reference info) for the rows in the lookback."""
        now = time.time() if now is None else now
        version = self.version()
        seconds = window_seconds(self.window)
        rows = self.scored(version, now) if rows is None else rows
        wanted = list(self.features) if self.features is not None else feature_names(version)
        refs, info = references(store, version, wanted)
        profile = training_dataset(store, version).dataset.profile
        profiles: dict[str, Any] = profile.get("columns") or {}
        cols = [c for c in refs if c in rows.inputs.columns]
        if len(rows) and not cols:
            raise InvalidInputError(
                f"none of the reference's columns ({', '.join(sorted(refs)) or 'none'}) "
                f"appear in the monitored rows of {self.uri}",
                hint="monitor the model the requests were sent to, or pass --features",
            )
        info = {**info, "features": cols, "version": version.version}
        # a column the signature or the training data knows is expected; one of the
        # reference's columns absent from the rows has vanished
        expected = {*(feature_names(version) or []), *profiles, *(wanted or [])}
        watched = list(refs) if wanted is not None else []  # without a signature: unknown
        known = _Known(expected, watched, profiles, profile.get("n_rows"))
        starts = np.floor(rows.meta["ts"].to_numpy(dtype="float64") / seconds) * seconds
        results: list[WindowResult] = []
        previous: dict[str, Reference] = {}
        baseline: Reference | None = None
        for start in np.unique(starts):
            part = rows.take(starts == start)
            result = self._window(part, refs, cols, previous, known)
            mine = part.meta[part.meta["version"] == version.version]
            if len(mine):
                out = _outputs(mine)
                if baseline is None:
                    baseline = reference_from_values(out)
                    result["output"] = {"baseline": True, "n_cur": len(out)}
                else:
                    stats = column_drift(baseline, out)
                    result["output"] = _slim(stats, judge(stats, Threshold(), self.min_rows))
            previous = {
                c: reference_from_values(part.inputs[c])
                for c in cols
                if part.inputs[c].notna().any()
            }
            versions = sorted({int(v) for v in part.meta["version"].dropna()})
            results.append(
                WindowResult(float(start), float(start + seconds), len(part), versions, result)
            )
        return results, info

    def _window(
        self,
        part: Scored,
        refs: Mapping[str, Reference],
        cols: list[str],
        previous: Any,
        known: _Known,
    ) -> dict[str, Any]:
        features: dict[str, Any] = {}
        sudden: dict[str, Any] = {}
        columns = {str(c): part.inputs[c] for c in part.inputs.columns}
        signals = schema_signals(columns, known.expected, known.watched)
        for c in cols:
            values = part.inputs[c]
            th = self.threshold(c)
            signals[c] = column_signals(
                known.profiles.get(c) or {},
                values,
                self.null_threshold(c),
                self.min_rows,
                known.n_rows,
            )
            cause = explaining(signals[c])
            if not values.notna().any():  # all null: no statistic to compute
                kind = (known.profiles.get(c) or {}).get("kind")
                stats: dict[str, Any] = {"kind": kind, "n_ref": refs[c].n, "n_cur": 0}
            else:
                stats = column_drift(refs[c], values)
            features[c] = _slim(stats, judge(stats, th, self.min_rows))
            if cause:
                features[c]["explained_by"] = cause
            if c in previous and values.notna().any():
                prev = column_drift(previous[c], values)
                sudden[c] = {
                    k: prev.get(k) for k in ("psi", "js", "ks", "ks_pvalue", "chi2_pvalue")
                } | judge(prev, th, self.min_rows)
                if cause:
                    sudden[c]["explained_by"] = cause
        return {
            "features": features,
            "previous": sudden,
            "signals": signals,
            "latency": _latency(part.meta),
        }


__all__ = ["LOOKBACK_WINDOWS", "DriftMonitor"]
