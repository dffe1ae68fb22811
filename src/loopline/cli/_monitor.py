"""`loopline monitors ...`: run, report, labels, performance, alerts, slo, skew, schedule,
retrains, redeliver. Thin: parse, call `loopline.monitoring`, print."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from loopline.cli._labels import labels_app
from loopline.cli._output import Col, JsonOpt, WideOpt, console, number, print_json, table, when
from loopline.errors import NotFoundError

app = typer.Typer(
    help="Drift, delayed-label performance, SLOs, alerts and retrain triggers.",
    no_args_is_help=True,
)
UriArg = Annotated[str, typer.Argument(help="models:/name@alias or models:/name/N")]
Many = list[str] | None
STATUS = {"critical": "[red]critical[/red]", "warning": "[yellow]warning[/yellow]"}


def _num(v: Any) -> str:
    return "" if v is None else number(float(v), 3)


def _verdicts(result: dict[str, Any], wide: bool) -> None:
    rows = []
    for name, f in sorted((result.get("features") or {}).items()):
        prev = (result.get("previous") or {}).get(name) or {}
        p = f.get("ks_pvalue", f.get("chi2_pvalue"))
        status = f.get("status", "")
        rows.append(
            [name, f.get("stat"), _num(f.get("value")), _num(p), _num(prev.get("psi")),
             f.get("n_cur"), STATUS.get(status, status)]
        )  # fmt: skip
    cols = [
        Col("feature", key=True), Col("stat", drop=2), Col("value", key=True),
        Col("p-value", drop=1), Col("vs prev. PSI", drop=3), Col("rows", drop=4),
        Col("verdict", key=True),
    ]  # fmt: skip
    table(None, cols, rows, wide=wide)


@app.command("run")
def run(
    uri: UriArg,
    window: Annotated[str | None, typer.Option(help="15m, 6h, 1d or 1w")] = None,
    data: Annotated[Path | None, typer.Option(help="Batch-scored file, not the capture")] = None,
    features: Annotated[str | None, typer.Option(help="Comma-separated features")] = None,
    threshold: Annotated[Many, typer.Option(help="FEATURE=WARN,ALERT (repeatable)")] = None,
    webhook: Annotated[Many, typer.Option(help="Slack-compatible webhook URL")] = None,
    metrics_url: Annotated[str | None, typer.Option(help="The server's /metrics URL")] = None,
    slo: Annotated[Many, typer.Option(help="latency_p95_ms=100, min.auc=0.8, ...")] = None,
    retrain: Annotated[Many, typer.Option(help="psi=0.2, windows=2, min.auc=0.8 or off")] = None,
    slice_by: Annotated[Many, typer.Option("--slice", help="Performance slice column")] = None,
    html: Annotated[Path | None, typer.Option(help="Also write the HTML report here")] = None,
    wide: WideOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Judge capture windows against training, the previous window and the version's first
    window; raise or resolve alerts; fire the retrain trigger. Options given are saved."""
    from loopline.monitoring import MonitorConfig, monitor_for, run_monitor
    from loopline.monitoring._config import merge_thresholds, parse_settings, parse_thresholds

    try:
        cfg = MonitorConfig.from_record(monitor_for(uri))
    except NotFoundError:
        cfg = MonitorConfig()
    cfg = cfg.updated(
        window=window,
        features=[f for f in features.split(",") if f] if features else None,
        thresholds=merge_thresholds(cfg.thresholds, parse_thresholds(threshold))
        if threshold
        else None,
        webhooks=sorted({*cfg.webhooks, *webhook}) if webhook else None,
        metrics_url=metrics_url,
        slo={**cfg.slo, **parse_settings(slo, "slo")} if slo else None,
        retrain={**cfg.retrain, **parse_settings(retrain, "retrain")} if retrain else None,
        slices=slice_by,
    )
    report = run_monitor(uri, config=cfg, data=data)
    if html is not None:
        _write_report(uri, html)
    if as_json:
        print_json(report.as_dict())
        return
    ref = report.reference
    source = "rows" if ref.get("source") == "data" else "profile"
    console.print(
        f"{uri} → v{report.version.version}; reference {ref.get('dataset')} ({ref.get('rows')} "
        f"rows, from its {source}); {len(report.computed)} window(s) computed"
    )
    latest = report.latest
    if latest is None:
        console.print("no captured predictions yet: nothing to judge")
        return
    console.print(f"latest window from {when(latest.start)}: {latest.n_rows} rows")
    _verdicts(latest.result, wide)
    for c in report.alerts:
        if c.transition != "repeated" or c.alert.severity == "critical":
            sev = STATUS.get(c.alert.severity, c.alert.severity)
            console.print(f"alert {c.transition} (x{c.alert.count}): {sev} {c.alert.rule}: ")
            console.print(f"  {c.alert.message}", highlight=False)
    for d in report.deliveries:
        console.print(f"notified {d.sink}: {d.status} after {d.attempts} attempt(s)")
    if report.retrain is not None:
        verb = "requested" if report.retrain_created else "already pending"
        console.print(f"retrain {verb}: #{report.retrain.id} {report.retrain.reason}")
    if html is not None:
        console.print(f"report written to {html}")


def _write_report(uri: str, out: Path) -> None:
    from loopline.cli._context import store
    from loopline.monitoring import monitor_for, monitoring_store, stored_history
    from loopline.monitoring._report import render_report

    mon = monitoring_store(store(reap=False))  # outside a project: creates nothing
    monitor = monitor_for(uri)
    runs = mon.list_monitor_runs(monitor.id, limit=1)
    reference = runs[0].summary.get("reference", {}) if runs else {}
    alerts = mon.list_alerts(model=monitor.model)
    out.write_text(render_report(uri, stored_history(uri), reference, alerts))


@app.command("report")
def report(uri: UriArg, html: Annotated[Path, typer.Option(help="Output HTML file")]) -> None:
    """Write the HTML report of the stored windows (charts inline, no JavaScript)."""
    _write_report(uri, html)
    console.print(f"report written to {html}")


app.add_typer(labels_app, name="labels")


@app.command("performance")
def performance(uri: UriArg, wide: WideOpt = False, as_json: JsonOpt = False) -> None:
    """Labelled performance per window (from the last `monitors run`)."""
    from loopline.cli._context import store
    from loopline.monitoring import stored_history

    store(reap=False)  # outside a project: says where it looked, creates nothing
    rows = [(w, w.result.get("performance") or {}) for w in stored_history(uri)]
    rows = [(w, p) for w, p in rows if p]
    if as_json:
        print_json([{"start": w.start, **p} for w, p in rows])
        return
    keys = sorted({k for _, p in rows for k in p.get("metrics", {})})
    table(
        None,
        [Col("window", key=True), Col("labelled"), *(Col(k, drop=1) for k in keys)],
        [[when(w.start), p["n_labelled"], *(_num(p.get("metrics", {}).get(k)) for k in keys)]
         for w, p in rows],
        wide=wide,
    )  # fmt: skip


@app.command("alerts")
def alerts(
    show_all: Annotated[bool, typer.Option("--all", help="Resolved ones too")] = False,
    model: Annotated[str | None, typer.Option(help="Only this model")] = None,
    runbooks: Annotated[bool, typer.Option("--runbook", help="Print what to do")] = False,
    wide: WideOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Open alerts (one per rule and model), newest first."""
    from loopline.cli._context import store
    from loopline.monitoring import monitoring_store

    found = monitoring_store(store(reap=False)).list_alerts(
        model=model, status=None if show_all else "open"
    )
    if as_json:
        print_json([a.as_dict() for a in found])
        return
    table(
        None,
        [Col("id", key=True), Col("model", key=True), Col("rule", key=True), Col("severity"),
         Col("status", drop=3), Col("count", drop=2), Col("first", drop=4), Col("last", drop=1),
         Col("message", text=True)],
        [[a.id, a.model, a.rule, STATUS.get(a.severity, a.severity), a.status, a.count,
          when(a.first_seen, True), when(a.last_seen, True), a.message] for a in found],
        wide=wide,
    )  # fmt: skip
    for a in found if runbooks else []:
        console.print(f"\n[bold]#{a.id} {a.rule}: what to do[/bold]\n{a.runbook}", highlight=False)


@app.command("slo")
def slo(uri: UriArg, wide: WideOpt = False, as_json: JsonOpt = False) -> None:
    """SLO status per window and error-budget burn (objectives: `monitors run --slo`)."""
    from loopline.cli._context import store
    from loopline.monitoring import SLO, MonitorConfig, monitor_for, slo_report, stored_history

    store(reap=False)  # outside a project: says where it looked, creates nothing
    cfg = MonitorConfig.from_record(monitor_for(uri))
    rep = slo_report(stored_history(uri), SLO.parse(cfg.slo))
    if as_json:
        print_json(rep)
        return
    names = list(rep["windows"][-1]["objectives"]) if rep["windows"] else []
    table(
        f"SLO of {uri}",
        [Col("window", key=True), Col("status", key=True), *(Col(n, drop=1) for n in names)],
        [[when(w["start"], True), w["status"],
          *(f"{_num(w['objectives'][n]['value'])} {w['objectives'][n]['status']}" for n in names)]
         for w in rep["windows"]],
        wide=wide,
    )  # fmt: skip
    last = rep["windows"][-1]["objectives"] if rep["windows"] else {}
    for name, o in last.items():  # `insufficient` alone does not say what data is missing
        if o.get("reason"):
            console.print(f"{name}: insufficient: {o['reason']}", highlight=False)
    for name, b in rep["budget"].items():
        if isinstance(b, dict):
            console.print(
                f"{name}: error budget burn {b['burn']:.2f} (remaining {b['remaining']:.0%})"
            )


@app.command("skew")
def skew(
    uri: UriArg,
    data: Annotated[Path, typer.Option(help="Features as the training pipeline computed them")],
    key: Annotated[str | None, typer.Option(help="Shared id column, e.g. request_id")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Training-serving skew: the same features from the training path vs what serving saw."""
    import time

    from loopline.cli._context import store
    from loopline.config import load_settings
    from loopline.monitoring._data import load_capture
    from loopline.monitoring._skew import skew_report
    from loopline.registry import get_version, read_table

    store(reap=False)  # outside a project: says where it looked, creates nothing
    version = get_version(uri)
    rows = load_capture(load_settings().home / "capture", version.model, time.time() - 30 * 86400)
    serving = rows.inputs.assign(request_id=rows.meta["request_id"].astype(str))
    if key is not None and "row" in rows.meta.columns:  # each row joins its own
        serving = serving.assign(row=rows.meta["row"])
    rep = skew_report(read_table(data), serving, key=key)
    if as_json:
        print_json(rep)
        return
    on = f" on {', '.join(rep['on'])}" if rep.get("on") else ""
    table(
        f"skew ({rep['mode']}{on}, {rep['rows']} rows)",
        [Col("column", key=True), Col("measure"), Col("skewed", key=True)],
        [[c, _num(v.get("mismatch", v.get("psi"))), "[red]yes[/red]" if v["skewed"] else "no"]
         for c, v in rep["columns"].items()],
    )  # fmt: skip


@app.command("schedule")
def schedule(
    uri: UriArg,
    cron: Annotated[str | None, typer.Option(help="e.g. '0 * * * *' (hourly, UTC)")] = None,
    off: Annotated[bool, typer.Option("--off", help="Stop the schedule")] = False,
) -> None:
    """Register a recurring monitor run by the server's scheduler."""
    from loopline.config import current_user
    from loopline.monitoring import MonitorConfig, monitoring_store
    from loopline.monitoring._schedule import next_run
    from loopline.registry import get_version
    from loopline.store import open_metadata_store

    mon = monitoring_store(open_metadata_store())
    try:
        saved = mon.get_monitor(uri)
        cfg, model = MonitorConfig.from_record(saved), saved.model
    except NotFoundError:
        cfg, model = MonitorConfig(), get_version(uri).model
    expr = None if off else cron
    if expr is not None:
        import time

        first = next_run(expr, time.time())
    mon.save_monitor(
        uri, model=model, window=cfg.window, config=cfg.as_dict(), schedule=expr,
        actor=current_user(),
    )  # fmt: skip
    console.print(f"{uri}: schedule off" if expr is None else f"{uri}: next run {when(first)}")


@app.command("retrains")
def retrains(
    model: Annotated[str | None, typer.Option(help="Only this model")] = None,
    wide: WideOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Retrain requests the triggers recorded (one pending per model)."""
    from loopline.cli._context import store
    from loopline.monitoring import monitoring_store

    found = monitoring_store(store(reap=False)).list_retrain_requests(model=model)
    if as_json:
        print_json([r.as_dict() for r in found])
        return
    table(
        None,
        [Col("id", key=True), Col("model", key=True), Col("version", key=True), Col("status"),
         Col("requested", drop=2), Col("by", drop=1), Col("reason", text=True)],
        [[r.id, r.model, r.version, r.status, when(r.requested_at, True), r.requested_by, r.reason]
         for r in found],
        wide=wide,
    )  # fmt: skip


@app.command("redeliver")
def redeliver_cmd() -> None:
    """Send dead-lettered alert notifications again."""
    from loopline.monitoring import configured_sinks, monitoring_store, redeliver
    from loopline.store import open_metadata_store

    mon = monitoring_store(open_metadata_store())
    done = redeliver(mon, configured_sinks(mon))
    ok = sum(d.status == "delivered" for d in done)
    console.print(f"{ok} delivered, {len(done) - ok} still dead-lettered")


__all__ = ["app"]
