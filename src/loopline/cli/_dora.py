"""`loopline reports dora`: DORA's four keys and model-health KPIs from the audit trail."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, Any

import typer

from loopline.cli._output import Col, console, print_json, table, when
from loopline.errors import InvalidInputError

if TYPE_CHECKING:
    from loopline.ops import DoraReport

_UNITS = {"h": 3600.0, "d": 86400.0, "w": 7 * 86400.0}
_WEEK = ("week", "deploys", "failed", "lead h", "restore h")


def parse_since(text: str) -> float:
    """'90d', '12w', '36h' → seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([hdw])\s*", text)
    if m is None or float(m.group(1)) <= 0:
        raise InvalidInputError(
            f"--since {text!r} is not a duration", hint="use a number and h, d or w, e.g. 90d"
        )
    return float(m.group(1)) * _UNITS[m.group(2)]


def _f(value: float | None, fmt: str = "{:.1f}") -> str:
    return "—" if value is None else fmt.format(value)


def _failure_cell(k: Mapping[str, Any]) -> str:
    """The rate, or the counts when the deployments are too few for one (`insufficient`)."""
    if "change_failure_rate" in k["insufficient"]:
        return f"{k['failed']} of {k['deployments']}"
    return _f(k["change_failure_rate"], "{:.0%}")


def _restore_cell(k: Mapping[str, Any]) -> str:
    if "time_to_restore_median_h" in k["insufficient"]:
        return f"{k['restored']} restored"
    return _f(k["time_to_restore_median_h"], "{:.2f}")


# Short headers: the table must fit an 80-column terminal; the four keys never give way.
_KEYS = (
    Col("model", key=True),
    Col("deploys", key=True, justify="right"),
    Col("/week", drop=2, justify="right"),
    Col("lead h", key=True, justify="right"),
    Col("fail rate", key=True, justify="right"),
    Col("restore h", key=True, justify="right"),
    Col("incidents", drop=1, justify="right"),
)


def _keys_table(report: DoraReport, wide: bool) -> None:
    """The four keys, all models first, then each model."""

    def row(name: str, k: Mapping[str, Any]) -> list[str]:
        return [
            name,
            str(k["deployments"]),
            f"{k['per_week']:.2f}",
            _f(k["lead_time_median_h"]),
            _failure_cell(k),
            _restore_cell(k),
            f"{k['incidents']} ({k['open_incidents']} open)"
            if k["open_incidents"]
            else str(k["incidents"]),
        ]

    rows = [row("all models", asdict(report.overall))]
    rows += [row(m, asdict(k)) for m, k in report.per_model.items()]
    table(None, _KEYS, rows, wide=wide)


def _sample_notes(report: DoraReport) -> list[str]:
    """Why a key shows counts: all models first, then a model whose reason differs."""
    notes: list[str] = []
    labels = {"change_failure_rate": "fail rate", "time_to_restore_median_h": "restore h"}
    for name, k in [("all models", report.overall), *report.per_model.items()]:
        for key, why in k.insufficient.items():
            note = f"{labels.get(key, key)} shows counts: {why}"
            if not any(n.endswith(note) for n in notes):
                notes.append(note if name == "all models" else f"{name}: {note}")
    return notes


def dora(
    since: Annotated[str, typer.Option(help="Window: 90d, 12w, 36h")] = "90d",
    model: Annotated[str | None, typer.Option(help="Only this model")] = None,
    wide: Annotated[
        bool, typer.Option("--wide", help="Every column, unwrapped, however wide the terminal.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Deployment frequency, lead time, change failure rate and time to restore, per model
    and per week, plus drift-to-production time, retrain cadence and gate rejections."""
    from loopline.cli._context import store
    from loopline.ops.dora import dora_report

    report = dora_report(store(reap=False), since_s=parse_since(since), model=model)
    if as_json:
        print_json(report.as_dict())
        return
    console.print(
        f"[bold]DORA[/bold] {when(report.since, short=True)} → {when(report.until, short=True)}"
        + (f" for {model}" if model else ""),
        highlight=False,
    )
    _keys_table(report, wide)
    if report.weeks:
        table(
            "per week",
            [Col("week", key=True), *(Col(h, key=True, justify="right") for h in _WEEK[1:])],
            [
                [
                    w["week"],
                    w["deployments"],
                    w["failed"],
                    _f(w["lead_time_median_h"]),
                    _restore_cell(w),
                ]
                for w in report.weeks
            ],
        )
    h = report.health
    table(
        "model health",
        [Col("KPI", text=True), Col("value", key=True)],
        [
            [
                "drift alert → retrained model in production (median h)",
                _f(h["drift_to_production_median_h"]),
            ],
            ["drift alerts not yet fixed in production", h["drift_alerts_unfixed"]],
            ["retrains (registered candidates)", h["retrains"]],
            ["retrain interval (median days)", _f(h["retrain_interval_median_days"])],
            [
                "candidates rejected by gates",
                f"{h['candidates_rejected']}/{h['candidates_gated']} "
                f"({_f(h['gate_rejection_share'], '{:.0%}')})",
            ],
        ],
    )
    for note in [*_sample_notes(report), *report.notes]:
        console.print(f"[dim]note: {note}[/dim]", highlight=False)


__all__ = ["dora", "parse_since"]
