"""Keyed training-serving skew joins each served row to its own training row: on (request id,
row) when a request scored several rows (issue 16: joined on the id only, every pair of rows
of a request was compared and every column reported as skewed)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from loopline.cli import app
from loopline.errors import InvalidInputError
from loopline.monitoring._skew import skew_report
from tests.conftest import run_cli


def requests(n: int = 100, rows: int = 5, seed: int = 0) -> pd.DataFrame:
    """`n` requests of `rows` rows each: request_id, row, and two features."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "request_id": np.repeat([f"q{i}" for i in range(n)], rows),
            "row": np.tile(np.arange(rows), n),
            "x": rng.normal(size=n * rows),
            "plan": rng.choice(["a", "b", "c"], size=n * rows),
        }
    )


def test_multi_row_requests_join_on_request_and_row() -> None:
    train = requests()
    serve = train.sample(frac=1.0, random_state=1)  # capture order is not training order
    rep = skew_report(train, serve, key="request_id")
    assert rep["mode"] == "keyed" and rep["on"] == ["request_id", "row"]
    assert rep["rows"] == len(train)
    assert rep["skewed"] == []
    assert {c: v["mismatch"] for c, v in rep["columns"].items()} == {"x": 0.0, "plan": 0.0}
    assert "row" not in rep["columns"]  # a join column, not a feature

    changed = serve.copy()
    changed.loc[changed["row"] == 2, "x"] += 1.0  # one row in five computed differently
    rep = skew_report(train, changed, key="request_id")
    assert rep["skewed"] == ["x"]
    assert rep["columns"]["x"]["mismatch"] == pytest.approx(0.2)
    assert rep["columns"]["plan"]["mismatch"] == 0.0


def test_one_row_requests_still_join_on_the_id_alone() -> None:
    train = requests(rows=1).drop(columns=["row"])
    rep = skew_report(train, requests(rows=1), key="request_id")
    assert rep["on"] == ["request_id"] and rep["rows"] == 100 and rep["skewed"] == []


def test_training_without_row_for_multi_row_requests_is_refused() -> None:
    train = requests()
    with pytest.raises(InvalidInputError, match="no 'row' column") as err:
        skew_report(train.drop(columns=["row"]), train, key="request_id")
    assert "several rows" in str(err.value)
    with pytest.raises(InvalidInputError, match="several rows"):
        skew_report(train, train.drop(columns=["row"]), key="request_id")


def test_duplicate_training_rows_are_refused_and_repeated_capture_keeps_the_last() -> None:
    train = requests(n=10)
    with pytest.raises(InvalidInputError, match="2 training row"):
        skew_report(pd.concat([train, train.iloc[:2]]), train, key="request_id")
    # The same (request, row) captured twice (a retried request): the later one is compared.
    serve = pd.concat([train.iloc[:1].assign(x=99.0), train], ignore_index=True)
    rep = skew_report(train, serve, key="request_id")
    assert rep["rows"] == len(train) and rep["skewed"] == []


def test_bad_row_values_are_refused() -> None:
    train = requests(n=10)
    with pytest.raises(InvalidInputError, match="whole numbers"):
        skew_report(train.assign(row=train["row"] + 0.5), train, key="request_id")


def capture(home: Path, model: str, frame: pd.DataFrame) -> None:
    folder = home / "capture" / model / time.strftime("%Y-%m-%d")
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        {
            "request_id": frame["request_id"],
            "row": frame["row"],
            "ts": time.time(),
            "version": 1,
            "arm": "main",
            "latency_ms": 1.0,
            "prediction": json.dumps(1),
            "probability": 0.5,
            "inputs": [
                json.dumps({"x": float(x), "plan": p})
                for x, p in zip(frame["x"], frame["plan"], strict=True)
            ],
        }
    ).to_parquet(folder / "c.parquet")


def test_cli_skew_of_a_served_model(home: Path, tmp_path: Path, production: object) -> None:
    """`loopline monitor skew` reads the capture with each row's position in its request."""
    train = requests(n=20)
    capture(home, "churn", train.sample(frac=1.0, random_state=3))
    features = tmp_path / "features.csv"
    train.to_csv(features, index=False)
    out = CliRunner().invoke(
        app,
        ["monitor", "skew", "models:/churn@production", "--data", str(features),
         "--key", "request_id", "--json"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    rep = json.loads(out.stdout)
    assert rep["on"] == ["request_id", "row"] and rep["rows"] == 100 and rep["skewed"] == []
    train.drop(columns=["row"]).to_csv(features, index=False)
    bad = run_cli(
        "monitor", "skew", "models:/churn@production", "--data", str(features),
        "--key", "request_id",
    )  # fmt: skip
    assert bad.returncode == 2 and "no 'row' column" in bad.stderr
    assert "Traceback" not in bad.stderr
