"""The smaller parts: SLO judgement and error budgets, /metrics parsing, cron schedules,
skew, delayed-label performance by slice, batch-scored files, verdicts and configuration."""

from __future__ import annotations

import calendar
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loopline.errors import InvalidInputError
from loopline.monitoring import (
    SLO,
    DriftMonitor,
    MonitorConfig,
    Threshold,
    judge,
    performance_by_window,
    slo_report,
    window_seconds,
)
from loopline.monitoring._config import parse_settings, parse_thresholds
from loopline.monitoring._errors import parse_requests
from loopline.monitoring._schedule import due_monitors, next_run
from loopline.monitoring._skew import skew_report
from loopline.monitoring._slo import latency_histogram, slower_than
from loopline.store import Monitor, WindowResult


def window(start: float, **result: object) -> WindowResult:
    return WindowResult(start, start + 86_400, 100, [1], dict(result))


def test_latency_slo_status_and_error_budget_burn() -> None:
    fast = np.full(1000, 20.0)
    slow = np.concatenate([np.full(900, 20.0), np.full(100, 400.0)])  # 10% over 100 ms
    history = [
        window(0, latency={"requests": 1000, "p95_ms": 20.0, "histogram": latency_histogram(fast)}),
        window(
            86_400,
            latency={"requests": 1000, "p95_ms": 400.0, "histogram": latency_histogram(slow)},
        ),
    ]
    rep = slo_report(history, SLO(latency_p95_ms=100, error_rate=None, max_psi=None))
    assert [w["status"] for w in rep["windows"]] == ["met", "violated"]
    assert rep["windows"][1]["objectives"]["latency_p95_ms"]["burn_rate"] == pytest.approx(2.0)
    budget = rep["budget"]["latency_p95_ms"]
    assert budget["slow"] == pytest.approx(100) and budget["burn"] == pytest.approx(1.0)
    assert budget["remaining"] == pytest.approx(0.0)
    assert slower_than(latency_histogram(np.array([1.0, 1000.0])), 10.0) == pytest.approx(1.0)


def test_error_rate_and_performance_objectives() -> None:
    w = window(
        0,
        errors={"requests": 1000, "errors": 30},
        performance={"n_labelled": 500, "metrics": {"auc": 0.71, "mae": 2.0}},
    )
    slo = SLO(latency_p95_ms=None, error_rate=0.01, max_psi=None, min={"auc": 0.8})
    obj = slo_report([w], slo)["windows"][0]["objectives"]
    assert obj["error_rate"]["status"] == "violated" and obj["error_rate"]["burn_rate"] == 3.0
    assert obj["min.auc"]["status"] == "violated"
    with pytest.raises(InvalidInputError, match="unknown SLO"):
        SLO.parse({"latency": 3})


def test_prometheus_request_counts() -> None:
    mlflow = 'protocol="mlflow",route="/invocations",arm="champion"'
    oip = 'protocol="oip",route="/v2/models/{name}/infer",arm="champion"'
    text = (
        "# TYPE loopline_requests_total counter\n"
        f'loopline_requests_total{{{mlflow},code="200"}} 970.0\n'
        f'loopline_requests_total{{{mlflow},code="422"}} 20.0\n'
        f'loopline_requests_total{{{oip},code="500"}} 10.0\n'
        f'loopline_requests_created{{{mlflow},code="200"}} 1.7e9\n'
    )
    assert parse_requests(text) == {"requests": 1000.0, "errors": 10.0, "client_errors": 20.0}


def test_cron_next_run_and_due_monitors() -> None:
    t0 = calendar.timegm((2026, 1, 5, 10, 7, 30))  # a Monday
    assert next_run("*/15 * * * *", t0) == calendar.timegm((2026, 1, 5, 10, 15, 0))
    assert next_run("0 2 * * *", t0) == calendar.timegm((2026, 1, 6, 2, 0, 0))
    assert next_run("30 9 * * 0", t0) == calendar.timegm((2026, 1, 11, 9, 30, 0))  # Sunday
    assert next_run("0 0 29 2 *", t0) == calendar.timegm((2028, 2, 29, 0, 0, 0))
    for bad in ("* * *", "61 * * * *", "*/0 * * * *", "a * * * *"):
        with pytest.raises(InvalidInputError):
            next_run(bad, t0)
    rec = Monitor(1, "models:/m@p", "m", "1d", {}, "0 * * * *", "me", t0, t0, None)
    assert due_monitors([rec], t0 + 60) == []
    assert due_monitors([rec], t0 + 3600) == [rec]


def test_keyed_skew_finds_a_feature_computed_differently() -> None:
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"id": range(500), "x": rng.normal(size=500), "y": rng.normal(size=500)})
    serve = train.copy()
    serve.loc[::10, "y"] = serve.loc[::10, "y"] * 1.01  # 10% of rows computed differently
    rep = skew_report(train, serve, key="id")
    assert rep["mode"] == "keyed" and rep["skewed"] == ["y"]
    assert rep["columns"]["y"]["mismatch"] == pytest.approx(0.1)
    dist = skew_report(train, serve.assign(x=serve["x"] + 1.0))
    assert dist["mode"] == "distribution" and dist["skewed"] == ["x"]


def test_performance_per_window_and_slice() -> None:
    rng = np.random.default_rng(1)
    n = 400
    y = rng.integers(0, 2, n)
    p = np.clip(y * 0.6 + rng.normal(0.2, 0.2, n), 0, 1)
    joined = pd.DataFrame(
        {
            "ts": np.where(np.arange(n) < 200, 10.0, 86_410.0),
            "label": y,
            "prediction": (p > 0.5).astype(int),
            "probability": p,
            "plan": np.where(np.arange(n) % 2 == 0, "basic", "pro"),
        }
    )
    out = performance_by_window(joined, 86_400, "classification", [0, 1], ("plan",))
    assert sorted(out) == [0.0, 86_400.0]
    day = out[0.0]
    assert day["n_labelled"] == 200 and day["metrics"]["auc"] > 0.8
    assert (
        set(day["slices"]["plan"]) == {"basic", "pro"} and day["slices"]["plan"]["pro"]["n"] == 100
    )


def test_verdicts_need_rows_and_significance_on_small_windows() -> None:
    th = Threshold()
    assert judge({"n_cur": 10, "psi": 5.0}, th)["status"] == "insufficient"
    assert judge({"n_cur": 300, "psi": 0.3, "ks_pvalue": 0.2}, th)["status"] == "ok"
    assert judge({"n_cur": 300, "psi": 0.3, "ks_pvalue": 0.001}, th)["status"] == "critical"
    assert judge({"n_cur": 5000, "psi": 0.15, "ks_pvalue": 0.9}, th)["status"] == "warning"
    custom = Threshold.parse({"stat": "js", "warn": 0.05, "alert": 0.1})
    assert judge({"n_cur": 5000, "js": 0.07, "psi": 9}, custom)["status"] == "warning"
    with pytest.raises(InvalidInputError, match="warn"):
        Threshold.parse({"warn": 0.3, "alert": 0.1})


def test_configuration_parsing_and_params() -> None:
    assert parse_thresholds(["a=0.05,0.1", "*=js:0.2"]) == {
        "a": {"warn": 0.05, "alert": 0.1},
        "*": {"warn": 0.2, "stat": "js"},
    }
    assert parse_settings(["latency_p95_ms=80", "min.auc=0.8"], "slo") == {
        "latency_p95_ms": 80.0,
        "min": {"auc": 0.8},
    }
    assert parse_settings(["off"], "retrain") == {"enabled": False}
    with pytest.raises(InvalidInputError):
        parse_thresholds(["a"])
    with pytest.raises(InvalidInputError, match="window"):
        MonitorConfig(window="2 days")
    assert window_seconds("6h") == 21_600
    m = DriftMonitor("models:/m@p", "6h", thresholds={"*": {"warn": 0.2, "alert": 0.4}})
    assert m.get_params()["window"] == "6h" and m.threshold("x").alert == 0.4


def test_batch_scored_file_is_one_window(tmp_path: Path) -> None:
    from loopline.monitoring import load_scored

    path = tmp_path / "scored.parquet"
    pd.DataFrame({"a": [1.0, 2.0], "prediction": [0, 1], "probability": [0.2, 0.9]}).to_parquet(
        path
    )
    rows = load_scored(path)
    assert list(rows.inputs.columns) == ["a"] and rows.meta["ts"].nunique() == 1
    assert rows.meta["probability"].tolist() == [0.2, 0.9]
