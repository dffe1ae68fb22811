"""Issue 16: replaying the training rows unchanged through serving raises no alarm.

Three datasets the rest of the suite does not use (sklearn's diabetes, wine, breast cancer),
each served by a real uvicorn server; the rows go out as a client sends them (JSON over HTTP),
are captured the way serving captures them, and the monitor compares them with the training
reference, once kept as rows (`save=True`) and once as a profile only. Diabetes' `sex` column
(two values) was PSI 7.9, critical: the capture wrote 15 significant digits, so its values
no longer equalled the training values, and the maximum fell into an open bin above it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import loopline as ll
from loopline.config import load_settings
from loopline.monitoring import run_monitor
from loopline.monitoring._data import load_capture

LOADERS = {"diabetes": load_diabetes, "wine": load_wine, "breast_cancer": load_breast_cancer}


def fit(name: str, x: pd.DataFrame, y: pd.Series) -> Any:
    if name == "diabetes":
        return LinearRegression().fit(x, y)
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y)


@pytest.mark.parametrize("saved", [True, False], ids=["rows", "profile"])
@pytest.mark.parametrize("name", list(LOADERS))
def test_replaying_training_rows_raises_nothing(
    name: str, saved: bool, live_server: Callable[..., Any], home: Any
) -> None:
    bunch = LOADERS[name](as_frame=True)
    x, y = bunch.data, bunch.target
    with ll.start_run(experiment=name) as run:
        run.log_dataset(pd.concat([x, y], axis=1), name=f"{name}-train", save=saved)
        info = run.log_model(fit(name, x, y), signature=ll.infer_signature(x, y))
    ll.promote(name, ll.register_model(info, name).version, "production")
    uri = f"models:/{name}@production"

    live = live_server(uri)
    for i in range(0, len(x), 100):
        part = x.iloc[i : i + 100]
        body = {"dataframe_split": {"columns": list(x.columns), "data": part.values.tolist()}}
        r = live.client.post("/invocations", json=body, headers={"x-request-id": f"r{i}"})
        assert r.status_code == 200, r.text
    deadline = time.monotonic() + 10
    while live.service.capture.written_rows < len(x) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert live.service.capture.written_rows == len(x)

    # The capture keeps every value to the bit (it wrote 15 significant digits before).
    captured = load_capture(load_settings().home / "capture", name).inputs
    order = np.lexsort(captured[list(x.columns)].to_numpy().T[::-1])
    expected = np.lexsort(x.to_numpy().T[::-1])
    assert np.array_equal(
        captured[list(x.columns)].to_numpy()[order], x.to_numpy(dtype="float64")[expected]
    )

    report = run_monitor(uri)
    assert report.reference["source"] == ("data" if saved else "profile")
    verdicts = report.latest.result["features"] if report.latest else {}
    assert set(verdicts) == set(x.columns)
    for col, v in verdicts.items():
        assert v["status"] == "ok", (col, v)
        assert v["psi"] == 0.0 and v["chi2"] == 0.0, (col, v)
    assert report.drifted() == {}
    fired = [c for c in report.alerts if c.transition == "fired"]
    assert fired == []
    if name == "diabetes":
        sex = verdicts["sex"]
        assert sex["discrete"] and sex["ks"] == 0.0 and sex["exact"]
