"""Column signals as first-class drift signals: a null rate that rises, a column that goes all
null or constant, a column that vanishes or appears. Each is stored per window, raises exactly
one alert per episode through the same alert path as drift, and stays silent on an unchanged
replay of the training data and on noise in small windows."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier

import loopline as ll
from loopline.errors import InvalidInputError
from loopline.monitoring import (
    MonitorConfig,
    MonitorReport,
    NullRateThreshold,
    column_signals,
    run_monitor,
)
from loopline.monitoring._config import parse_thresholds
from loopline.monitoring._signals import null_rate_pvalue
from loopline.store import Alert, ModelVersion, open_metadata_store

MODEL = "nulls"
URI = f"models:/{MODEL}@production"
DAY = 86_400.0
T0 = (time.time() // DAY + 1) * DAY  # tomorrow's UTC midnight: after the promotion
NO_RETRAIN = {"retrain": {"enabled": False}}


@pytest.fixture
def training() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 2000
    x = rng.normal(50, 10, n)
    x[rng.permutation(n)[: n // 10]] = np.nan  # exactly 10% null
    return pd.DataFrame(
        {
            "x": x,
            "c": rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2]),
            "z": rng.normal(size=n),
        }
    )


@pytest.fixture
def model(training: pd.DataFrame) -> ModelVersion:
    y = pd.Series((training["z"] > 0).astype("int64"), name="label")
    with ll.start_run(experiment="nulls") as run:
        run.log_dataset(pd.concat([training, y], axis=1), name="train")  # profile only
        clf = DummyClassifier().fit(training[["z"]], y)
        info = run.log_model(clf, signature=ll.infer_signature(training, y))
    version = ll.register_model(info, MODEL)
    ll.promote(MODEL, version.version, "production")
    return version


def replay(training: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """Training rows drawn again: the same null rate and distributions."""
    return training.sample(n, replace=True, random_state=seed).reset_index(drop=True)


def with_null_rate(training: pd.DataFrame, n: int, rate: float, seed: int) -> pd.DataFrame:
    """Training rows with `x` present, then exactly `rate` of them made null."""
    rows = training[training["x"].notna()].sample(n, replace=True, random_state=seed)
    rows = rows.reset_index(drop=True)
    rows.loc[: round(n * rate) - 1, "x"] = np.nan
    return rows


def scored(tmp_path: Path, windows: list[pd.DataFrame], name: str = "scored.parquet") -> Path:
    """One daily window per frame, with a prediction column, as a batch-scored file."""
    frames = []
    for i, w in enumerate(windows):
        w = w.copy()
        w["ts"] = T0 + i * DAY + 60.0 + np.arange(len(w), dtype="float64")
        w["prediction"] = 0
        frames.append(w)
    path = tmp_path / name
    pd.concat(frames, ignore_index=True).to_parquet(path)
    return path


def monitor(path: Path, **config: object) -> MonitorReport:
    return run_monitor(URI, config=MonitorConfig(**{**NO_RETRAIN, **config}), data=path)  # type: ignore[arg-type]


def alerts() -> list[Alert]:
    return open_metadata_store().list_alerts(MODEL, status=None)


def test_an_unchanged_replay_raises_no_signal_and_no_alert(
    model: ModelVersion, training: pd.DataFrame, tmp_path: Path
) -> None:
    path = scored(tmp_path, [replay(training, 500, seed) for seed in range(3)])
    report = monitor(path)
    assert report.signals() == {}
    for w in report.history:
        nr = w.result["signals"]["x"]["null_rate"]
        assert nr["reference"] == pytest.approx(0.10)
        assert abs(nr["value"] - 0.10) < 0.04 and nr["status"] == "ok"
        assert all(
            s["status"] == "ok" for sigs in w.result["signals"].values() for s in sigs.values()
        )
    assert alerts() == []


def test_a_column_that_goes_all_null_raises_exactly_one_alert(
    model: ModelVersion, training: pd.DataFrame, tmp_path: Path
) -> None:
    windows = [replay(training, 400, 1)] + [replay(training, 400, s) for s in (2, 3, 4)]
    for w in windows[1:]:
        w["x"] = np.nan
    path = scored(tmp_path, windows)
    report = monitor(path)
    latest = report.history[-1].result
    x = latest["signals"]["x"]
    assert x["all_null"]["status"] == "critical" and x["all_null"]["n"] == 400
    assert x["null_rate"]["status"] == "critical" and x["null_rate"]["explained_by"] == "all_null"
    assert x["constant"]["status"] == "insufficient"  # no values to be constant
    assert latest["features"]["x"]["status"] == "insufficient"  # no statistic without values
    assert report.signals() == {"x": {"all_null": "critical", "null_rate": "critical"}}
    assert [(c.transition, c.alert.rule) for c in report.alerts] == [("fired", "all_null:x")]
    alert = report.alerts[0].alert
    assert alert.severity == "critical"
    assert "`x` became all null (400 of 400 rows; 10.0% null in training)" in alert.message
    assert alert.context["signal"] == "all_null" and alert.context["column"] == "x"
    assert alert.context["breach_start"] == T0 + DAY  # the episode began at the second window
    assert "after promotion of nulls v1 to @production" in alert.message
    assert "pipeline fault" in alert.runbook

    again = monitor(path)  # the same episode seen again: counted, not re-notified
    assert [(c.transition, c.alert.rule) for c in again.alerts] == [("repeated", "all_null:x")]
    (only,) = alerts()
    assert (only.rule, only.count, only.status) == ("all_null:x", 2, "open")

    back = scored(tmp_path, [*windows, replay(training, 400, 9)], "back.parquet")
    resolved = monitor(back)
    assert [(c.transition, c.alert.rule) for c in resolved.alerts] == [("resolved", "all_null:x")]
    assert [a.rule for a in alerts()] == ["all_null:x"]


def test_a_null_rate_from_10_to_30_percent_raises_exactly_one_alert(
    model: ModelVersion, training: pd.DataFrame, tmp_path: Path
) -> None:
    windows = [replay(training, 500, 1), *(with_null_rate(training, 500, 0.3, s) for s in (2, 3))]
    path = scored(tmp_path, windows)
    report = monitor(path)
    nr = report.history[-1].result["signals"]["x"]["null_rate"]
    assert nr["value"] == pytest.approx(0.30) and nr["reference"] == pytest.approx(0.10)
    assert nr["increase"] == pytest.approx(0.20) and nr["pvalue"] < 1e-12
    assert nr["status"] == "critical" and (nr["warn"], nr["alert"]) == (0.05, 0.10)
    assert report.history[0].result["signals"]["x"]["null_rate"]["status"] == "ok"
    assert report.drifted() == {}  # the values that are present did not move
    (change,) = report.alerts
    assert (change.transition, change.alert.rule, change.alert.severity) == (
        "fired",
        "null_rate:x",
        "critical",
    )
    assert "null rate of `x` rose to 30.0% from 10.0% in training (150 of 500 rows" in (
        change.alert.message
    )
    monitor(path)
    (only,) = alerts()
    assert (only.rule, only.count) == ("null_rate:x", 2)


def test_a_null_rate_threshold_is_configurable_per_feature(
    model: ModelVersion, training: pd.DataFrame, tmp_path: Path
) -> None:
    path = scored(tmp_path, [with_null_rate(training, 500, 0.3, 2)])
    loose = {"x": {"null_rate": {"warn": 0.15, "alert": 0.25}}}
    report = monitor(path, thresholds=loose)
    nr = report.history[-1].result["signals"]["x"]["null_rate"]
    assert nr["status"] == "warning" and (nr["warn"], nr["alert"]) == (0.15, 0.25)
    assert [(c.alert.rule, c.alert.severity) for c in report.alerts] == [("null_rate:x", "warning")]
    star = monitor(path, thresholds={"*": {"null_rate": {"warn": 0.5}}})
    assert star.history[-1].result["signals"]["x"]["null_rate"]["status"] == "ok"
    assert [(c.transition, c.alert.rule) for c in star.alerts] == [("resolved", "null_rate:x")]


def test_noise_in_small_windows_never_fires(
    model: ModelVersion, training: pd.DataFrame, tmp_path: Path
) -> None:
    # 30 rows, 40% null: under min_rows, insufficient (neither raised nor resolved);
    # 60 rows, 18% null against 10%: +8 points but p ≈ 0.02, not significant at 0.001.
    path = scored(
        tmp_path, [with_null_rate(training, 60, 0.18, 1), with_null_rate(training, 30, 0.4, 2)]
    )
    report = monitor(path)
    first, second = (w.result["signals"]["x"]["null_rate"] for w in report.history)
    assert first["status"] == "ok" and first["increase"] > 0.05 and not first["significant"]
    assert second["status"] == "insufficient"
    assert alerts() == []


def test_a_constant_column_is_one_alert_and_not_also_data_drift(
    model: ModelVersion, training: pd.DataFrame, tmp_path: Path
) -> None:
    stuck = replay(training, 500, 3)
    stuck["c"] = "a"
    report = monitor(scored(tmp_path, [replay(training, 500, 1), stuck]))
    latest = report.history[-1].result
    c = latest["signals"]["c"]["constant"]
    assert c["status"] == "critical" and c["value"] == "a" and c["distinct"] == 1
    assert c["reference_distinct"] == 3 and c["pvalue"] < 1e-100
    # the drift verdict sees it too (the chi-square is huge) but the constant alert covers it
    assert latest["features"]["c"]["status"] == "critical"
    assert latest["features"]["c"]["explained_by"] == "constant"
    assert latest["previous"]["c"]["explained_by"] == "constant"
    assert sorted(c.alert.rule for c in report.alerts) == ["constant:c"]
    assert "`c` became constant ('a' in all 500 non-null rows; 3 distinct values" in (
        report.alerts[0].alert.message
    )


def test_vanished_and_new_columns(
    model: ModelVersion, training: pd.DataFrame, tmp_path: Path
) -> None:
    window = replay(training, 300, 4).drop(columns=["z"])
    window["session_id"] = np.arange(300)
    report = monitor(scored(tmp_path, [window]))
    sigs = report.history[-1].result["signals"]
    assert sigs["z"] == {"vanished_column": {"status": "critical"}}
    assert sigs["session_id"] == {"new_column": {"status": "warning", "n": 300}}
    assert "z" not in report.history[-1].result["features"]
    got = {c.alert.rule: c.alert.severity for c in report.alerts}
    assert got == {"vanished_column:z": "critical", "new_column:session_id": "warning"}
    assert "column `z` of the model's inputs is missing" in next(
        c.alert.message for c in report.alerts if c.alert.rule == "vanished_column:z"
    )


def test_signal_functions_and_threshold_parsing() -> None:
    profile = {"null_count": 100, "null_fraction": 0.1, "count": 900, "n_unique": 900}
    values = pd.Series([np.nan] * 30 + list(np.arange(70.0)))
    sig = column_signals(profile, values, NullRateThreshold(), min_rows=50, n_ref=1000)
    assert sig["null_rate"]["status"] == "critical" and sig["null_rate"]["value"] == 0.3
    # pooled two-proportion z-test, one-sided: the textbook numbers
    p = null_rate_pvalue(100, 1000, 30, 100)
    pooled = 130 / 1100
    z = 0.2 / np.sqrt(pooled * (1 - pooled) * (1 / 1000 + 1 / 100))
    from scipy.stats import norm

    assert p == pytest.approx(norm.sf(z), rel=1e-9)
    assert null_rate_pvalue(100, 1000, 10, 100) == pytest.approx(0.5)
    # a column that was always null in training is not "became all null"
    always = {"null_count": 1000, "null_fraction": 1.0, "count": 0}
    assert column_signals(always, pd.Series([np.nan] * 60), NullRateThreshold(), 50)["all_null"][
        "status"
    ] == ("ok")
    # a binary column that is 99.5% one value may well be constant in 60 rows
    skewed = {"null_count": 0, "count": 1000, "n_unique": 2, "top": {"0": 995, "1": 5}}
    assert column_signals(skewed, pd.Series(["0"] * 60), NullRateThreshold(), 50)["constant"][
        "status"
    ] == ("ok")

    assert parse_thresholds(["x=null_rate:0.05,0.2", "x=0.1,0.3"]) == {
        "x": {"null_rate": {"warn": 0.05, "alert": 0.2}, "warn": 0.1, "alert": 0.3}
    }
    with pytest.raises(InvalidInputError, match="null_rate thresholds for 'x' need"):
        MonitorConfig(thresholds={"x": {"null_rate": {"warn": 0.2, "alert": 0.1}}})
    with pytest.raises(InvalidInputError, match="unknown null_rate setting"):
        MonitorConfig(thresholds={"*": {"null_rate": {"critical": 0.2}}})
