"""`loopline score` as a user runs it: real files, a real subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from loopline.store import ModelVersion
from tests.batch.files import read, write
from tests.conftest import run_cli


def test_score_parquet_to_csv_with_json_report(
    churn_v1: ModelVersion, customers: pd.DataFrame, tmp_path: Path
) -> None:
    source = write(customers, tmp_path / "in.parquet")
    out = tmp_path / "scores.csv"
    args = ["score", "models:/churn/1", "--input", str(source), "--output", str(out)]
    proc = run_cli(*args, "--chunk-size", "300", "--id", "customer_id", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert (report["rows"], report["chunks"], report["model_version"]) == (800, 3, "churn/1")
    assert report["id_columns"] == ["customer_id"]
    scores = read(out)
    assert list(scores.columns) == ["customer_id", "prediction", "probability", "model_version"]
    assert scores["customer_id"].tolist() == customers["customer_id"].tolist()


def test_score_prints_one_summary_line(
    churn_v1: ModelVersion, customers: pd.DataFrame, tmp_path: Path
) -> None:
    source = write(customers, tmp_path / "in.csv")
    proc = run_cli("score", "models:/churn/1", "-i", str(source), "-o", str(tmp_path / "o.parquet"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("scored 800 rows with churn/1 → ")
    assert len(proc.stdout.strip().splitlines()) == 1
    assert len(pd.read_parquet(tmp_path / "o.parquet")) == 800


def test_bad_input_is_one_line_and_exit_2(
    churn_v1: ModelVersion, customers: pd.DataFrame, tmp_path: Path
) -> None:
    source = write(customers.drop(columns="a"), tmp_path / "in.parquet")
    out = tmp_path / "o.parquet"
    proc = run_cli("score", "models:/churn/1", "--input", str(source), "--output", str(out))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "has no column 'a' (float64), which model churn/1 reads" in proc.stderr
    assert not out.exists()


def test_engine_option_and_env(
    churn_v1: ModelVersion, customers: pd.DataFrame, tmp_path: Path
) -> None:
    source = write(customers, tmp_path / "in.parquet")
    args = ["score", "models:/churn/1", "-i", str(source), "-o", str(tmp_path / "parts")]
    proc = run_cli(*args, "--engine", "local", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["engine"] == "local"
    assert sorted(p.name for p in (tmp_path / "parts").iterdir())[0] == "part-00000.parquet"
    proc = run_cli(*args, env={"LOOPLINE_ENGINE": "dask"})
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "unknown compute engine 'dask'" in proc.stderr
