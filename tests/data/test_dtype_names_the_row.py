"""A column of the wrong type: the dtype rule's message names the column, how many values are
wrong and the first row holding one (its row label, as the examples and the quarantine's
`_row` name it), in the report, the one-line summary and `loopline data validate`."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from loopline.data import Column, Contract, validate
from tests.conftest import run_cli


def _dtype_rule(frame: pd.DataFrame, column: str, dtype: str) -> tuple[str, str]:
    report = validate(frame, Contract(columns={column: Column(dtype=dtype)}))
    rule = next(r for r in report.rules if r.id == f"{column}.dtype")
    assert rule.failed
    return rule.message, report.summary()


def test_text_in_a_float_column_names_the_count_and_the_first_row() -> None:
    frame = pd.DataFrame({"amount": ["1.5", "2", "abc", "4", "x y", "6"]})
    message, summary = _dtype_rule(frame, "amount", "float")
    assert message == (
        f"{frame['amount'].dtype}, contract says float; "
        "2 values do not convert to float, first in row 2 ('abc')"
    )
    assert summary.endswith(f"column 'amount' failed rule 'dtype': {message} (33.3% of rows)")


def test_one_bad_value_is_named_with_its_row_label() -> None:
    frame = pd.DataFrame({"tenure": [1.0, 2.5, 3.0]}, index=["a", "b", "c"])
    message, _ = _dtype_rule(frame, "tenure", "int")
    assert message == "1 value is not int, in row b (2.5)"


def test_a_long_value_is_shortened() -> None:
    frame = pd.DataFrame({"n": ["1", "z" * 100]})
    message, _ = _dtype_rule(frame, "n", "int")
    assert message.endswith(f"in row 1 ('{'z' * 38}…)"), message


@pytest.mark.parametrize("as_json", [False, True])
def test_data_validate_names_column_row_and_count(tmp_path: Path, as_json: bool) -> None:
    data, contract = tmp_path / "orders.csv", tmp_path / "orders.yaml"
    data.write_text("id,amount\n1,10.5\n2,11\n3,abc\n4,12\n5,x y\n6,1.5\n")
    contract.write_text("columns:\n  id: {dtype: int}\n  amount: {dtype: float}\n")
    args = ["data", "validate", str(data), "--contract", str(contract)]
    out = run_cli(*args, *(["--json"] if as_json else []), env={"COLUMNS": "200"})
    assert out.returncode == 1, out.stderr
    expected = "2 values do not convert to float, first in row 2 ('abc')"
    if as_json:
        rule = next(r for r in json.loads(out.stdout)["rules"] if r["id"] == "amount.dtype")
        assert rule["message"].endswith(expected) and rule["failing_count"] == 2
    else:
        last = out.stdout.strip().splitlines()[-1]
        assert "column 'amount' failed rule 'dtype'" in last and expected in last, out.stdout
        assert out.stdout.count("row 2") == 2, out.stdout  # the table and the summary, no e.g.
