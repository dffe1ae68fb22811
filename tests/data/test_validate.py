from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loopline.data import (
    Column,
    Contract,
    Expression,
    Freshness,
    Labels,
    Leakage,
    RowCount,
    RowCountTrend,
    UniqueKeys,
    ValidationFailedError,
    ValidationReport,
    validate,
)


def rules(report: ValidationReport) -> dict[str, object]:
    return {r.id: r for r in report.rules}


def test_passing_frame_and_verdicts() -> None:
    df = pd.DataFrame({"id": [3, 1, 2], "x": [0.1, 0.2, None]})
    contract = Contract(
        name="t",
        columns={"id": Column(dtype="int", unique=True, nullable=False), "x": Column(min=0)},
        strict=True,
    )
    report = validate(df, contract)
    assert report.verdict == "passed" and report.passed
    assert report.summary().startswith("passed: ")
    warned = validate(df, contract.model_copy(update={"severity": "warn", "strict": True}))
    assert warned.verdict == "passed"
    extra = df.assign(y=1)
    assert validate(extra, contract).verdict == "failed"
    lenient = Contract(columns=contract.columns, strict=True, severity="warn")
    assert validate(extra, lenient).verdict == "warned"


def test_missing_column_skips_its_rules_and_optional_columns_pass() -> None:
    df = pd.DataFrame({"a": [1]})
    contract = Contract(
        columns={"b": Column(dtype="int", min=0), "c": Column(required=False, dtype="int")}
    )
    by_id = rules(validate(df, contract))
    assert by_id["b.present"].failed and "missing" in by_id["b.present"].message
    assert by_id["b.dtype"].status == "skipped" and by_id["b.range"].status == "skipped"
    assert not by_id["c.present"].failed


def test_raise_for_errors_names_column_and_rule() -> None:
    df = pd.DataFrame({"tenure": ["1", "x", "3"]})
    report = validate(df, Contract(columns={"tenure": Column(dtype="int")}))
    with pytest.raises(ValidationFailedError) as info:
        report.raise_for_errors("train")
    line = info.value.one_line()
    assert "validation of 'train' failed: column 'tenure' failed rule 'dtype'" in line
    assert "str, contract says int" in line and "\n" not in line
    assert info.value.http_status == 422
    assert info.value.details["failed_rules"] == ["tenure.dtype"]


def test_row_count_and_trend() -> None:
    df = pd.DataFrame({"a": range(100)})
    contract = Contract(
        row_count=RowCount(min=10, max=50),
        row_count_trend=RowCountTrend(window=3, tolerance=0.1, min_batches=2),
    )
    by_id = rules(validate(df, contract, history=[100, 95, 105, 1]))
    assert by_id["row_count"].failed and "at most 50" in by_id["row_count"].message
    assert not by_id["row_count_trend"].failed  # mean of the last 3 is 100
    by_id = rules(validate(df, contract, history=[150, 160]))
    assert by_id["row_count_trend"].failed and "-35.5%" in by_id["row_count_trend"].message
    by_id = rules(validate(df, contract, history=[100]))
    assert by_id["row_count_trend"].status == "skipped"


def test_freshness() -> None:
    now = pd.Timestamp("2024-05-10 12:00", tz="UTC")
    df = pd.DataFrame({"ts": pd.to_datetime(["2024-05-09 10:00", "2024-05-10 06:00"])})
    fresh = Contract(freshness=Freshness(column="ts", max_age="12h"))
    assert not rules(validate(df, fresh, now=now))["freshness"].failed
    stale = Contract(freshness=Freshness(column="ts", max_age="2h"))
    result = rules(validate(df, stale, now=now))["freshness"]
    assert result.failed and "2024-05-10T06:00:00+00:00" in result.message
    text = pd.DataFrame({"ts": ["2024-05-10T11:00:00Z", "garbage"]})
    assert not rules(validate(text, stale, now=now))["freshness"].failed
    missing = rules(validate(pd.DataFrame({"x": [1]}), stale, now=now))["freshness"]
    assert missing.failed and "'ts'" in missing.message


def test_unique_keys_and_expressions_with_examples() -> None:
    df = pd.DataFrame({"k1": [1, 1, 2, None], "k2": ["a", "a", "a", "a"], "amount": [5, -1, -2, 3]})
    df["status"] = ["ok", "refund", "ok", "ok"]
    contract = Contract(
        unique_keys=UniqueKeys(columns=["k1", "k2"]),
        expressions=[Expression(name="refunds", expr="amount >= 0 or status == 'refund'")],
    )
    by_id = rules(validate(df, contract))
    assert by_id["unique_keys"].failing_count == 2
    assert by_id["unique_keys"].examples[0] == {"row": 0, "value": {"k1": 1.0, "k2": "a"}}
    expr = by_id["expr.refunds"]
    assert expr.failing_count == 1
    assert expr.examples == [{"row": 2, "value": {"amount": -2, "status": "ok"}}]
    unknown = Contract(expressions=[Expression(name="e", expr="nope > 1")])
    result = rules(validate(df, unknown))["expr.e"]
    assert result.failed and "'nope'" in result.message and result.failing_count is None
    not_bool = Contract(expressions=[Expression(name="e", expr="amount + 1")])
    assert "true/false" in rules(validate(df, not_bool))["expr.e"].message


def test_expression_grammar_is_closed() -> None:
    for bad in ("__import__('os').system('x')", "df.x", "x[0]", "lambda: 1", "@x > 1", "_x > 0"):
        with pytest.raises(ValueError):
            Expression(name="e", expr=bad)
    Expression(name="e", expr="`first name` == 'x' and not (a in [1, 2])")


def test_quarantine_split_converts_and_keeps_reasons(tmp_path: Path) -> None:
    df = pd.DataFrame({"tenure": ["1", "n/a", "3", "200"], "amount": [1.0, 2.0, -1.0, 4.0]})
    contract = Contract(
        columns={"tenure": Column(dtype="int", max=100), "amount": Column(min=0)},
        severity="quarantine",
    )
    report = validate(df, contract)
    assert report.verdict == "quarantined" and report.passed
    clean, bad = report.split(df)
    assert clean.index.tolist() == [0]
    assert clean["tenure"].dtype == "int64" and clean["tenure"].tolist() == [1]
    assert bad["_row"].tolist() == [1, 2, 3]
    assert bad["_reasons"].tolist() == ["tenure.dtype", "amount.range", "tenure.range"]
    path = report.write_quarantine(df, tmp_path / "q" / "bad.parquet")
    assert pd.read_parquet(path)["_reasons"].tolist() == bad["_reasons"].tolist()
    csv = report.write_quarantine(df, tmp_path / "bad.csv")
    assert len(pd.read_csv(csv)) == 3


def test_quarantine_falls_back_to_error_without_rows() -> None:
    df = pd.DataFrame({"a": [1]})
    contract = Contract(expressions=[Expression(name="e", expr="b > 0", severity="quarantine")])
    report = validate(df, contract)
    assert report.verdict == "failed"
    assert rules(report)["expr.e"].severity == "error"


def test_report_json_round_trip_and_html() -> None:
    df = pd.DataFrame({"x": np.r_[np.arange(50.0), [500.0, np.nan]], "c": ["a"] * 51 + ["zz"]})
    contract = Contract(columns={"x": Column(max=100), "c": Column(allowed=["a"])})
    report = validate(df, contract)
    data = json.loads(report.to_json())
    assert data["verdict"] == "failed" and data["passed"] is False
    again = ValidationReport.from_dict(data)
    assert again.rules == report.rules and again.verdict == report.verdict
    assert set(report.charts) == {"x", "c"}
    assert report.charts["x"]["kind"] == "histogram" and sum(report.charts["x"]["failing"]) == 1
    assert report.charts["c"]["labels"][0] == "zz"
    page = report.to_html()
    assert page.count("<svg") == 2 and "x.range" in page and "<script" not in page


def test_edge_frames() -> None:
    contract = Contract(columns={"a": Column(dtype="float", nullable=False, min=0, unique=True)})
    empty = pd.DataFrame({"a": pd.Series([], dtype="float64")})
    assert validate(empty, contract).verdict == "passed"
    all_null = pd.DataFrame({"a": [np.nan, np.nan]})
    by_id = rules(validate(all_null, contract))
    assert by_id["a.not_null"].failing_count == 2
    assert by_id["a.range"].failing_count == 0 and by_id["a.unique"].failing_count == 0
    numbered = pd.DataFrame({0: [1.0], 1: [2.0]})
    assert validate(numbered, Contract(columns={"0": Column(min=0)})).verdict == "passed"
    twice = pd.DataFrame([[1.0, -1.0]], columns=["a", "a"])
    by_id = rules(validate(twice, contract))
    assert by_id["columns"].failed and "duplicate column names: a" in by_id["columns"].message


def test_mixed_types_in_object_column() -> None:
    df = pd.DataFrame({"m": pd.Series([1, "a", 2.5, None, [1, 2]], dtype="object")})
    by_id = rules(validate(df, Contract(columns={"m": Column(dtype="string", allowed=["a"])})))
    assert by_id["m.dtype"].failing_count == 3  # 1, 2.5 and the list are not text
    assert by_id["m.allowed"].failing_count == 0  # the wrong-typed values are counted once
    unhashable = rules(validate(df, Contract(columns={"m": Column(allowed=["a"])})))
    assert unhashable["m.allowed"].failed


def test_labels_balance_leakage_and_overlap() -> None:
    rng = np.random.default_rng(0)
    n = 400
    y = rng.integers(0, 2, n)
    df = pd.DataFrame(
        {
            "id": np.arange(n),
            "noise": rng.normal(size=n),
            "copy_of_target": y * 10.0 + rng.normal(0, 0.01, n),
            "churned_reason": rng.choice(["x", "y"], n),
            "label": np.where(y == 1, "Yes", "No"),
            "snapshot": pd.Timestamp("2024-01-01"),
            "closed_on": pd.Timestamp("2023-06-01") + pd.to_timedelta(y * 400, unit="D"),
        }
    )
    contract = Contract(
        labels=Labels(
            target="label",
            classes=["Yes", "No"],
            min_class_fraction=0.4,
            split_keys=["id"],
            leakage=Leakage(as_of="snapshot", check_names=True, exclude=["id"]),
        )
    )
    holdout = df.iloc[:10].copy()
    by_id = rules(validate(df, contract, holdout=holdout))
    assert not by_id["labels.target"].failed
    assert not by_id["labels.class_balance"].failed
    leak = by_id["labels.leakage"]
    assert leak.failed and leak.severity == "warn"
    suspects = {s["column"] for s in leak.observed["suspects"]}
    assert {"copy_of_target", "churned_reason", "closed_on"} <= suspects
    assert "noise" not in suspects
    assert by_id["labels.overlap"].failed and "10 of 10" in by_id["labels.overlap"].message
    skewed = df.assign(label=np.where(np.arange(n) < 20, "Yes", "No"))
    balance = rules(validate(skewed, contract))["labels.class_balance"]
    assert balance.failed and "'Yes' is 5.0% < 40.0%" in balance.message
    missing = rules(validate(df.drop(columns="label"), contract))["labels.target"]
    assert missing.failed and "missing" in missing.message


def test_quarantine_converts_a_retyped_column_even_when_every_value_converts() -> None:
    df = pd.DataFrame({"tenure": ["1", "34", "2"]})
    contract = Contract(columns={"tenure": Column(dtype="int")}).with_severity("quarantine")
    report = validate(df, contract)
    assert report.verdict == "quarantined" and report.quarantined_rows == 0
    clean, bad = report.split(df)
    assert clean["tenure"].dtype == "int64" and clean["tenure"].tolist() == [1, 34, 2]
    assert bad.empty
