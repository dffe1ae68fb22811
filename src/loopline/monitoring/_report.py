"""The monitoring report: one self-contained HTML file (inline SVG charts, inline CSS).

Sections: the latest window's verdict per feature; column checks (null rate, all null,
constant, vanished and new columns); a drift heatmap (feature x window, each cell coloured by
its status through `cell_status`/`status_colour`, the rule the web UI uses too); drift
scores over time; reference vs current histograms per feature; output drift, latency and
labelled performance over time; open alerts with their runbooks.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from html import escape
from typing import Any

from loopline.monitoring._signals import SIGNALS
from loopline.monitoring._status import STATUSES, cell_status, status_colour
from loopline.monitoring._svg import heatmap, line_chart, paired_bars
from loopline.store import Alert, WindowResult

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#222}
h1{font-size:22px}h2{font-size:17px;margin-top:32px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:8px 0}td,th{padding:3px 10px;border-bottom:1px solid #eee;
text-align:left}th{background:#fafafa}.critical{color:#d62728;font-weight:600}
.warning{color:#b8741a;font-weight:600}.ok{color:#3a7d44}.grid{display:flex;flex-wrap:wrap;gap:8px}
.card{border:1px solid #eee;padding:6px}.muted{color:#777}
pre{white-space:pre-wrap;background:#fafafa;padding:8px}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}
"""


def _label(w: WindowResult) -> str:
    span = w.end - w.start
    fmt = "%m-%d" if span >= 86_400 else "%m-%d %H:%M"
    return time.strftime(fmt, time.gmtime(w.start))


def _num(v: Any) -> str:
    return "" if v is None else f"{v:.3g}" if isinstance(v, float) else escape(str(v))


def _flagged(sigs: dict[str, Any] | None) -> str:
    """The breached signals of one column, e.g. 'all null, null rate (explained)'."""
    out = []
    for name in SIGNALS:
        s = (sigs or {}).get(name) or {}
        if s.get("status") in ("warning", "critical"):
            note = " (explained)" if s.get("explained_by") else ""
            out.append(f'<span class="{s["status"]}">{name.replace("_", " ")}{note}</span>')
    return ", ".join(out)


def _summary(latest: WindowResult) -> str:
    rows = []
    signals = latest.result.get("signals") or {}
    for name, f in sorted((latest.result.get("features") or {}).items()):
        status = f.get("status", "")
        p = f.get("ks_pvalue", f.get("chi2_pvalue"))
        rows.append(
            f"<tr><td>{escape(name)}</td><td>{escape(f.get('kind', ''))}</td>"
            f"<td>{escape(f.get('stat', ''))}</td><td>{_num(f.get('value'))}</td>"
            f"<td>{_num(f.get('psi'))}</td><td>{_num(f.get('js'))}</td><td>{_num(f.get('ks'))}</td>"
            f"<td>{_num(p)}</td><td>{_num(f.get('wasserstein'))}</td><td>{_num(f.get('n_cur'))}</td>"
            f'<td class="{escape(status)}">{escape(status)}</td>'
            f"<td>{_flagged(signals.get(name))}</td></tr>"
        )
    head = (
        "<tr><th>feature</th><th>kind</th><th>judged by</th><th>value</th><th>PSI</th>"
        "<th>JS</th><th>KS</th><th>p-value</th><th>Wasserstein</th><th>rows</th>"
        "<th>verdict</th><th>column checks</th></tr>"
    )
    return f"<table>{head}{''.join(rows)}</table>"


def _pct(v: Any) -> str:
    return f"{v:.1%}" if isinstance(v, int | float) else ""


def _column_checks(latest: WindowResult) -> str:
    """Null rate against training per column, and every breached column signal."""
    signals = latest.result.get("signals") or {}
    if not signals:
        return ""
    rows = []
    for name, sigs in sorted(signals.items()):
        nr = (sigs or {}).get("null_rate") or {}
        status = cell_status(None, sigs)
        rows.append(
            f"<tr><td>{escape(name)}</td><td>{_pct(nr.get('reference'))}</td>"
            f"<td>{_pct(nr.get('value'))}</td><td>{_num(nr.get('pvalue'))}</td>"
            f"<td>{_flagged(sigs) or '—'}</td>"
            f'<td class="{escape(status.replace(" ", "-"))}">{escape(status)}</td></tr>'
        )
    head = (
        "<tr><th>column</th><th>null rate (training)</th><th>null rate (window)</th>"
        "<th>p-value</th><th>signals</th><th>status</th></tr>"
    )
    return f"<h2>Column checks (latest window)</h2><table>{head}{''.join(rows)}</table>"


def _legend() -> str:
    spans = "".join(
        f'<span style="background:{status_colour(s)}"></span>{escape(s)}' for s in STATUSES
    )
    return f'<p class="legend">{spans}</p>'


def _histograms(latest: WindowResult) -> str:
    cards = []
    for name, f in sorted((latest.result.get("features") or {}).items()):
        ref, cur = f.get("ref_fractions"), f.get("cur_fractions")
        if not ref or not cur:
            continue
        if f.get("kind") == "numeric":
            edges = f.get("edges") or []
            bounds = ["-inf", *(f"{e:.3g}" for e in edges), "inf"]
            labels = [f"{bounds[i]}..{bounds[i + 1]}" for i in range(len(ref))]
        else:
            labels = [str(x) for x in f.get("labels", [])]
        cards.append(
            f'<div class="card"><b>{escape(name)}</b> <span class="{escape(f.get("status", ""))}">'
            f"{escape(f.get('status', ''))}</span><br>{paired_bars(labels, ref, cur)}</div>"
        )
    legend = (
        '<p class="legend"><span style="background:#9aa5b1"></span>reference (training)'
        '<span style="background:#4269d0"></span>current window</p>'
    )
    return legend + f'<div class="grid">{"".join(cards)}</div>'


def _over_time(history: Sequence[WindowResult]) -> str:
    xs = [_label(w) for w in history]
    features = sorted({n for w in history for n in (w.result.get("features") or {})})
    out = []

    def series(key: str, field: str) -> dict[str, list[float | None]]:
        return {
            n: [((w.result.get(key) or {}).get(n) or {}).get(field) for w in history]
            for n in features
        }

    out.append("<h3>PSI against training</h3>")
    out.append(line_chart(xs, series("features", "psi"), {"warn 0.1": 0.1, "alert 0.2": 0.2}))
    out.append("<h3>PSI against the previous window (sudden change)</h3>")
    out.append(line_chart(xs, series("previous", "psi"), {"alert 0.2": 0.2}))
    output = [(w.result.get("output") or {}).get("psi") for w in history]
    if any(v is not None for v in output):
        out.append("<h3>Output drift (PSI of predictions against the version's first window)</h3>")
        out.append(line_chart(xs, {"predictions": output}, {"alert 0.2": 0.2}))
    lat = {
        k: [(w.result.get("latency") or {}).get(f"{k}_ms") for w in history]
        for k in ("p50", "p95", "p99")
    }
    if any(v is not None for s in lat.values() for v in s):
        out.append("<h3>Latency (ms)</h3>")
        out.append(line_chart(xs, lat))
    metrics = sorted(
        {k for w in history for k in ((w.result.get("performance") or {}).get("metrics") or {})}
    )
    if metrics:
        perf = {
            m: [((w.result.get("performance") or {}).get("metrics") or {}).get(m) for w in history]
            for m in metrics
            if m in ("auc", "f1", "accuracy", "calibration_error", "mae", "rmse", "r2")
        }
        out.append("<h3>Labelled performance</h3>")
        out.append(line_chart(xs, perf))
    return "".join(out)


def render_report(
    uri: str,
    history: Sequence[WindowResult],
    reference: dict[str, Any],
    alerts: Sequence[Alert] = (),
) -> str:
    """The report as one HTML string."""
    title = f"Loopline monitoring: {escape(uri)}"
    parts = [f"<!doctype html><meta charset=utf-8><title>{title}</title><style>{_CSS}</style>"]
    parts.append(f"<h1>{title}</h1>")
    source = reference.get("source", "?")
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    parts.append(
        f'<p class="muted">reference: dataset {escape(str(reference.get("dataset", "?")))} '
        f"({escape(str(reference.get('fingerprint', ''))[:12])}, "
        f"{reference.get('rows', '?')} rows, from its {'rows' if source == 'data' else 'profile'})"
        f" · {len(history)} window(s) · generated {stamp}</p>"
    )
    if not history:
        parts.append("<p>No captured predictions yet.</p>")
        return "".join(parts)
    latest = history[-1]
    parts.append(f"<h2>Latest window ({escape(_label(latest))}, {latest.n_rows} rows)</h2>")
    parts.append(_summary(latest))
    parts.append(_column_checks(latest))
    if alerts:
        parts.append("<h2>Open alerts</h2>")
        for a in alerts:
            parts.append(
                f'<p><span class="{escape(a.severity)}">{escape(a.severity)}</span> '
                f"<b>{escape(a.rule)}</b> (seen {a.count}x) {escape(a.message)}</p>"
                f"<pre>{escape(a.runbook)}</pre>"
            )
    names = sorted(
        {n for w in history for key in ("features", "signals") for n in (w.result.get(key) or {})}
    )
    cols = [_label(w) for w in history]
    values = {
        (n, _label(w)): ((w.result.get("features") or {}).get(n) or {}).get("value")
        for w in history
        for n in names
    }
    statuses = {
        (n, _label(w)): cell_status(
            (w.result.get("features") or {}).get(n), (w.result.get("signals") or {}).get(n)
        )
        for w in history
        for n in names
    }
    parts.append("<h2>Drift by feature and window</h2>")
    parts.append(_legend())
    parts.append(heatmap(names, cols, values, statuses))
    parts.append("<h2>Reference vs current (latest window)</h2>")
    parts.append(_histograms(latest))
    parts.append("<h2>Over time</h2>")
    parts.append(_over_time(history))
    return "".join(parts)


__all__ = ["render_report"]
