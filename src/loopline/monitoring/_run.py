"""`run_monitor`: one monitoring pass for a model URI.

compute windows (drift, latency, labelled performance, server errors) → store them → rules →
deduplicated alerts → notify sinks → retrain trigger. Safe to run as often as a scheduler
likes: windows are replaced, alerts deduplicated, retrain requests kept to one pending.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from loopline.config import current_user, load_settings
from loopline.errors import ConfigError, NotFoundError
from loopline.monitoring._alerts import (
    Finding,
    apply_findings,
    drift_findings,
    signal_findings,
    window_text,
)
from loopline.monitoring._config import MonitorConfig
from loopline.monitoring._data import window_seconds
from loopline.monitoring._errors import error_counts
from loopline.monitoring._monitor import DriftMonitor
from loopline.monitoring._performance import join_labels, load_labels, performance_by_window
from loopline.monitoring._reference import output_kind
from loopline.monitoring._slo import INSUFFICIENT, SLO, slo_report, window_status
from loopline.monitoring._triggers import RetrainPolicy, trigger_retrain
from loopline.store import (
    AlertChange,
    AlertSink,
    Delivery,
    MetadataStore,
    ModelVersion,
    Monitor,
    MonitoringStore,
    RetrainRequest,
    StoreSink,
    WebhookSink,
    WindowResult,
    deliver,
    open_metadata_store,
)


def monitoring_store(store: MetadataStore) -> MonitoringStore:
    if isinstance(store, MonitoringStore):
        return store
    raise ConfigError(
        f"the metadata store {store.url} has no monitoring support",
        hint="upgrade Loopline on the server this store belongs to",
    )


def _jsonable(value: Any) -> Any:
    """Plain JSON values: numpy scalars become Python ones, NaN and infinities become None."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class MonitorReport:
    monitor: Monitor
    version: ModelVersion
    reference: dict[str, Any]
    computed: list[WindowResult]
    history: list[WindowResult]
    alerts: list[AlertChange] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    retrain: RetrainRequest | None = None
    retrain_created: bool = False
    slo: dict[str, Any] = field(default_factory=dict)

    @property
    def latest(self) -> WindowResult | None:
        return self.history[-1] if self.history else None

    def drifted(self, key: str = "features") -> dict[str, str]:
        """Feature → warning/critical in the latest window."""
        latest = self.latest
        verdicts = (latest.result.get(key) or {}) if latest else {}
        return {k: v["status"] for k, v in verdicts.items() if v.get("status") in _BAD}

    def signals(self) -> dict[str, dict[str, str]]:
        """Column → {signal: warning/critical} breached in the latest window."""
        latest = self.latest
        found = (latest.result.get("signals") or {}) if latest else {}
        return {
            c: {k: v["status"] for k, v in sigs.items() if v.get("status") in _BAD}
            for c, sigs in found.items()
            if any(v.get("status") in _BAD for v in sigs.values())
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "monitor": self.monitor.as_dict(),
            "model": self.version.model,
            "version": self.version.version,
            "reference": self.reference,
            "computed_windows": len(self.computed),
            "windows": [w.as_dict() for w in self.history],
            "drifted": self.drifted(),
            "signals": self.signals(),
            "alerts": [{"transition": c.transition, **c.alert.as_dict()} for c in self.alerts],
            "deliveries": [d.as_dict() for d in self.deliveries],
            "retrain": self.retrain.as_dict() if self.retrain else None,
            "retrain_created": self.retrain_created,
            "slo": self.slo,
        }


_BAD = ("warning", "critical")


def slo_findings(history: Sequence[WindowResult], slo: SLO) -> list[Finding]:
    if not history:
        return []
    latest = history[-1]
    status = window_status(latest, slo)
    found = []
    for key, rule, what in (
        ("latency_p95_ms", "slo.latency", "p95 latency {v:.0f} ms > {o:g} ms"),
        ("error_rate", "slo.error_rate", "error rate {v:.2%} > {o:.2%}"),
    ):
        obj = status.get(key)
        if obj is None or obj["status"] == INSUFFICIENT:
            continue
        if obj["status"] == "met":
            found.append(Finding(rule, None, f"{rule} back within its objective"))
            continue
        burn = obj.get("burn_rate")
        severity = "critical" if burn is None or burn >= 2 else "warning"
        msg = what.format(v=obj["value"], o=obj["objective"])
        burn_text = f"; error budget burning at {burn:.1f}x the sustainable rate" if burn else ""
        found.append(Finding(rule, severity, f"{msg} in {window_text(latest)}{burn_text}", obj))
    bad = {k: v for k, v in status.items() if k.startswith(("min.", "max."))}
    violated = {k: v for k, v in bad.items() if v["status"] == "violated"}
    if violated:
        text = ", ".join(
            f"{k[4:]} {v['value']:.3g} (bound {v['objective']:g})" for k, v in violated.items()
        )
        found.append(
            Finding(
                "performance",
                "critical",
                f"labelled performance out of bounds: {text} in {window_text(latest)}",
                {"objectives": violated},
                tuple(k[4:] for k in violated),
            )
        )
    elif any(v["status"] == "met" for v in bad.values()):
        found.append(Finding("performance", None, "labelled performance within bounds"))
    return found


def _attach_performance(
    windows: list[WindowResult], rows: Any, version: ModelVersion, cfg: MonitorConfig
) -> None:
    labels = load_labels(load_settings().home, version.model)
    if labels.empty or rows is None or not len(rows):
        return
    joined = join_labels(rows, labels)
    kind = output_kind(version) or "classification"
    out = (version.signature or {}).get("output") or {}
    classes = out.get("classes") if isinstance(out, dict) else None
    perf = performance_by_window(
        joined, window_seconds(cfg.window), kind, classes, tuple(cfg.slices)
    )
    for i, w in enumerate(windows):
        if w.start in perf:
            windows[i] = replace(w, result={**w.result, "performance": perf[w.start]})


def run_monitor(
    uri: str,
    *,
    config: MonitorConfig | None = None,
    data: str | Path | None = None,
    now: float | None = None,
    store: MetadataStore | None = None,
    extra_sinks: Sequence[AlertSink] = (),
) -> MonitorReport:
    """Run the monitor of `uri` with `config` (saved as the monitor's new configuration), or
    with its saved configuration, or with the defaults."""
    meta = store or open_metadata_store()
    mon = monitoring_store(meta)
    actor = current_user()
    try:
        saved: Monitor | None = mon.get_monitor(uri)
    except NotFoundError:
        saved = None
    cfg = config or (MonitorConfig.from_record(saved) if saved else MonitorConfig())
    dm = DriftMonitor(
        uri,
        cfg.window,
        features=cfg.features,
        thresholds=cfg.thresholds,
        min_rows=cfg.min_rows,
        lookback=cfg.lookback,
        data=data,
    )
    version = dm.version()
    monitor = _save_config(mon, uri, saved, cfg, version.model, actor)
    now = time.time() if now is None else now
    rows = dm.scored(version, now)
    windows, info = dm.compute(meta, now, rows)
    if data is None:
        _attach_performance(windows, rows, version, cfg)
    summary: dict[str, Any] = {"reference": info, "version": version.version}
    if cfg.metrics_url and windows:
        summary["errors_snapshot"] = _attach_errors(mon, monitor.id, cfg.metrics_url, windows)
    windows = [replace(w, result=_jsonable(w.result)) for w in windows]
    mon.record_monitor_run(
        monitor.id,
        windows,
        status="ok" if windows else "no_data",
        summary=_jsonable(summary),
        actor=actor,
    )
    history = mon.list_windows(monitor.id)
    slo = SLO.parse(cfg.slo)
    changes, deliveries = _alert(meta, uri, version, history, slo, cfg, actor, extra_sinks)
    drift_alert = next((c.alert.id for c in changes if c.alert.rule == "data_drift"), None)
    fired = trigger_retrain(
        mon, version, history, RetrainPolicy.parse(cfg.retrain), actor=actor, alert_id=drift_alert
    )
    return MonitorReport(
        monitor,
        version,
        info,
        windows,
        history,
        changes,
        deliveries,
        fired[0] if fired else None,
        bool(fired and fired[1]),
        slo_report(history, slo),
    )


def _save_config(
    mon: MonitoringStore,
    uri: str,
    saved: Monitor | None,
    cfg: MonitorConfig,
    model: str,
    actor: str,
) -> Monitor:
    """The monitor's record, saved anew when there was none or its configuration changed
    (its schedule is kept)."""
    if saved is not None and MonitorConfig.from_record(saved) == cfg:
        return saved
    return mon.save_monitor(
        uri,
        model=model,
        window=cfg.window,
        config=cfg.as_dict(),
        schedule=saved.schedule if saved else None,
        actor=actor,
    )


def _attach_errors(
    mon: MonitoringStore, monitor_id: int, metrics_url: str, windows: list[WindowResult]
) -> dict[str, float]:
    """Server errors since the previous run, from the scoring server's /metrics, added to
    the latest window; returns the counters' snapshot for the next run to subtract."""
    last = mon.list_monitor_runs(monitor_id, limit=1)
    before = last[0].summary.get("errors_snapshot") if last else None
    errors, snapshot = error_counts(metrics_url, before)
    windows[-1] = replace(windows[-1], result={**windows[-1].result, "errors": errors})
    return snapshot


def _alert(
    meta: MetadataStore,
    uri: str,
    version: ModelVersion,
    history: list[WindowResult],
    slo: SLO,
    cfg: MonitorConfig,
    actor: str,
    extra_sinks: Sequence[AlertSink],
) -> tuple[list[AlertChange], list[Delivery]]:
    """Rules over the stored windows → deduplicated alert changes → the sinks told of them."""
    mon = monitoring_store(meta)
    open_rules = [a.rule for a in mon.list_alerts(version.model, "open")]
    findings = (
        drift_findings(meta, version, history)
        + signal_findings(meta, version, history, open_rules)
        + slo_findings(history, slo)
    )
    changes = apply_findings(mon, uri, version.model, findings, actor)
    sinks: list[AlertSink] = [StoreSink(), *(WebhookSink(u) for u in cfg.webhooks), *extra_sinks]
    return changes, deliver(mon, changes, sinks)


def configured_sinks(mon: MonitoringStore) -> list[AlertSink]:
    """Every webhook any saved monitor sends to (for redelivering dead letters)."""
    urls = {u for m in mon.list_monitors() for u in MonitorConfig.from_record(m).webhooks}
    return [WebhookSink(u) for u in sorted(urls)]


def monitor_for(uri: str, store: MetadataStore | None = None) -> Monitor:
    return monitoring_store(store or open_metadata_store()).get_monitor(uri)


def stored_history(uri: str, store: MetadataStore | None = None) -> list[WindowResult]:
    mon = monitoring_store(store or open_metadata_store())
    return mon.list_windows(mon.get_monitor(uri).id)


__all__ = [
    "MonitorReport",
    "configured_sinks",
    "monitor_for",
    "monitoring_store",
    "run_monitor",
    "slo_findings",
    "stored_history",
]
