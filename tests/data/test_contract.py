from __future__ import annotations

from pathlib import Path

import pytest

from loopline.data import Column, Contract, ContractError, Expression, RowCount, UniqueKeys

GOOD = """\
name: orders
columns:
  id: {dtype: int, nullable: false, unique: true}
  status:
    dtype: string
    allowed: [Yes, No, on, "refund"]
  amount: {dtype: float, min: 0, max: 1000, severity: {range: quarantine}}
row_count: {min: 1}
expressions:
  - name: refunds
    expr: "amount >= 0 or status == 'refund'"
"""


def write(tmp_path: Path, text: str, name: str = "c.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_reads_a_contract_with_yaml_1_2_booleans(tmp_path: Path) -> None:
    c = Contract.from_yaml(write(tmp_path, GOOD))
    assert c.name == "orders"
    # YAML 1.1 would have turned Yes/No/on into booleans and failed every row.
    assert c.columns["status"].allowed == ["Yes", "No", "on", "refund"]
    assert c.severity_of("range", "amount") == "quarantine"
    assert c.severity_of("dtype", "amount") == "error"
    assert c.source == str(tmp_path / "c.yaml")


def test_round_trips_through_yaml(tmp_path: Path) -> None:
    c = Contract.from_yaml(write(tmp_path, GOOD))
    again = Contract.from_yaml_text(c.to_yaml(), c.source or "")
    assert again == c


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (
            "columns:\n  id:\n    dtype: int\n    mni: 0\n",
            4,
            ["unknown key 'mni'", "did you mean 'min'"],
        ),
        ("name: x\ncolumns:\n  id: {dtype: int, nullable: 'no'}\n", 3, ["nullable", "boolean"]),
        ("columns:\n  id:\n    dtype: integer64\n", 3, ["unknown dtype", "int, float"]),
        ("columns:\n  a: {regex: '[a-'}\n", 2, ["regex", "does not compile"]),
        ("columns:\n  a: {min: 5, max: 1}\n", 2, ["min 5 is greater than max 1"]),
        ("columns:\n  a: {min: abc}\n", 2, ["columns.a.min"]),
        ("row_count: {min: -1}\n", 1, ["row_count.min", "greater than or equal to 0"]),
        ("row_count: {min: 1, severity: quarantine}\n", 1, ["row_count.severity", "error"]),
        ("columns:\n  a: {severity: {present: quarantine}}\n", 2, ["not about single rows"]),
        ("expressions:\n  - name: e\n    expr: \"__import__('os')\"\n", 3, ["call", "not allow"]),
        ('expressions:\n  - name: e\n    expr: "a.__class__"\n', 3, ["attribute"]),
        ("expressions:\n  - {expr: 'a > 0'}\n", 2, ["missing the required key 'name'"]),
        ("freshness: {column: ts, max_age: soon}\n", 1, ["not a duration"]),
        ("name: a\nname: b\n", 2, ["appears twice"]),
        ("columns:\n  a: [1, 2\n", 3, ["not valid YAML"]),
        ("- just\n- a list\n", 1, ["a contract is a mapping"]),
        ("colums: {}\n", 1, ["unknown key 'colums'", "did you mean 'columns'"]),
    ],
)
def test_bad_contracts_name_file_line_and_key(
    tmp_path: Path, text: str, line: int, words: list[str]
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ContractError) as info:
        Contract.from_yaml(path)
    message = info.value.one_line()
    assert message.startswith(f"{path}:{line}:"), message
    for word in words:
        assert word in message, message
    assert "\n" not in message


def test_missing_file_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="does not exist"):
        Contract.from_yaml(tmp_path / "nope.yaml")
    with pytest.raises(ContractError, match="got nothing"):
        Contract.from_yaml(write(tmp_path, ""))


def test_built_in_python_and_with_severity() -> None:
    c = Contract(
        name="t",
        columns={"a": Column(dtype="int", min=0), "b": Column(allowed=["x"], severity="warn")},
        row_count=RowCount(min=1),
        unique_keys=UniqueKeys(columns=["a"]),
        expressions=[Expression(name="pos", expr="a >= 0")],
    )
    q = c.with_severity("quarantine")
    assert q.severity_of("range", "a") == "quarantine"
    assert q.severity_of("present", "a") == "error"  # a missing column cannot be set aside
    assert q.severity_of("allowed", "b") == "warn"  # only rules at `error` change
    assert q.unique_keys is not None and q.unique_keys.severity == "quarantine"
    assert q.expressions[0].severity == "quarantine"
    assert q.row_count == c.row_count
    assert c.severity_of("range", "a") == "error"  # the original is untouched


def test_dtype_aliases_normalise() -> None:
    assert Column(dtype="Int64").dtype == "int"
    assert Column(dtype="float32").dtype == "float"
    assert Column(dtype="str").dtype == "string"
    with pytest.raises(ValueError, match="unknown dtype"):
        Column(dtype="tensor")
