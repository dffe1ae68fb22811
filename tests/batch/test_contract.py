"""A contract checks every chunk before it is scored; whole-file rules are checked once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import loopline as ll
from loopline.batch import score
from loopline.data import ValidationFailedError
from loopline.errors import InvalidInputError
from loopline.store import ModelVersion
from tests.batch.files import read, write

URI = "models:/churn/1"


def contract(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "contract.yaml"
    path.write_text(text)
    return path


def test_a_failing_row_rule_stops_the_run_and_names_the_rows(
    churn_v1: ModelVersion, customers: pd.DataFrame, tmp_path: Path
) -> None:
    frame = customers.copy()
    frame.loc[612, "b"] = 50.0
    spec = contract(tmp_path, "columns:\n  b: {dtype: float, min: -10, max: 10}\n")
    with pytest.raises(ValidationFailedError) as exc:
        source = write(frame, tmp_path / "in.parquet")
        score(URI, source, tmp_path / "o.parquet", chunk_size=200, contract=spec)
    line = exc.value.one_line()
    assert "validation of 'in.parquet rows 600 to 799' failed: column 'b'" in line
    assert exc.value.details["report"]["rules"][-1]["examples"][0]["row"] == 612  # file row
    assert not (tmp_path / "o.parquet").exists()


def test_quarantined_rows_are_set_aside_and_counted(
    churn_v1: ModelVersion, customers: pd.DataFrame, tmp_path: Path
) -> None:
    spec = contract(
        tmp_path,
        "columns:\n  a: {dtype: float, max: 1.5, severity: quarantine}\n"
        "  segment: {dtype: string, allowed: [north, south]}\n"
        "  b: {dtype: float, max: 2.0, severity: warn}\n",
    )
    source = write(customers, tmp_path / "in.csv")
    report = score(URI, source, tmp_path / "o.parquet", chunk_size=150, contract=spec)
    kept = customers[customers["a"] <= 1.5]
    assert report.quarantined_rows == len(customers) - len(kept) > 0
    assert report.rows == len(kept) and report.contract == str(spec)
    assert report.contract_warnings == ("b.range",)
    out = read(tmp_path / "o.parquet")
    assert out["customer_id"].tolist() == kept["customer_id"].tolist()
    model = ll.load_model(URI)
    np.testing.assert_array_equal(out["probability"], model.predict_proba(kept)[:, 1])


def test_row_count_is_a_rule_about_the_file_not_each_chunk(
    churn_v1: ModelVersion, customers: pd.DataFrame, tmp_path: Path
) -> None:
    source = write(customers, tmp_path / "in.parquet")
    enough = contract(tmp_path, "row_count: {min: 500}\n")
    assert score(URI, source, tmp_path / "o.parquet", chunk_size=100, contract=enough).rows == 800
    too_few = contract(tmp_path, "row_count: {min: 1000}\n")
    with pytest.raises(ValidationFailedError, match=r"validation of 'in\.parquet' failed"):
        score(URI, source, tmp_path / "o2.parquet", chunk_size=100, contract=too_few)
    assert not (tmp_path / "o2.parquet").exists()


def test_a_chunk_set_aside_whole_is_skipped_and_all_set_aside_is_an_error(
    churn_v1: ModelVersion, customers: pd.DataFrame, tmp_path: Path
) -> None:
    source = write(customers, tmp_path / "in.parquet")
    first_100 = contract(tmp_path, "columns:\n  customer_id: {min: 1100, severity: quarantine}\n")
    report = score(URI, source, tmp_path / "o.parquet", chunk_size=100, contract=first_100)
    assert (report.rows, report.quarantined_rows, report.chunks) == (700, 100, 8)
    assert read(tmp_path / "o.parquet")["customer_id"].min() == 1100
    everything = contract(tmp_path, "columns:\n  customer_id: {max: 0, severity: quarantine}\n")
    with pytest.raises(InvalidInputError, match=r"set all 800 rows of .* aside"):
        score(URI, source, tmp_path / "o2.parquet", chunk_size=300, contract=everything)
    assert not (tmp_path / "o2.parquet").exists()
