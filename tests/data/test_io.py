"""Real files in tmp_path: every unreadable one gets a one-line verdict, never a traceback."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pytest

from loopline.data import Column, Contract, DataReadError, read_table, validate

FRAME = pd.DataFrame({"id": [1, 2, 3], "name": ["a", "b", None], "x": [0.5, None, 2.0]})


def test_reads_csv_tsv_gzip_parquet_and_arrow(tmp_path: Path) -> None:
    FRAME.to_csv(tmp_path / "d.csv", index=False)
    FRAME.to_csv(tmp_path / "d.tsv", index=False, sep="\t")
    with gzip.open(tmp_path / "d.csv.gz", "wt") as fh:
        FRAME.to_csv(fh, index=False)
    FRAME.to_parquet(tmp_path / "d.parquet")
    feather.write_feather(pa.Table.from_pandas(FRAME), tmp_path / "d.arrow")
    for name in ("d.csv", "d.tsv", "d.csv.gz", "d.parquet", "d.arrow"):
        df = read_table(tmp_path / name)
        assert list(df.columns) == ["id", "name", "x"], name
        assert df["id"].tolist() == [1, 2, 3], name
        assert df["x"].isna().sum() == 1, name


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("d.parquet", b"id,name\n1,a\n", ["is not a Parquet file", "text (CSV?)", "d.csv"]),
        ("d.csv", b"PAR1\x00\x00garbage", ["is not text (CSV?)", "a Parquet file"]),
        ("d.csv", b"", ["is empty (0 bytes)"]),
        ("d.parquet", b"", ["is empty (0 bytes)"]),
        ("d.csv", b"\n\n\n", ["no header line"]),
        ("d.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00", ["binary data"]),
        ("d.parquet", b"PAR1" + b"\x00" * 40, ["not a readable Parquet file"]),
        ("d.arrow", b"a,b\n", ["is not an Arrow IPC file"]),
        ("d.xlsx", b"PK\x03\x04rest", ["cannot tell the format", "zip archive"]),
        ("d.csv", b'a,b\n1,"unterminated\n', ["not valid CSV"]),
    ],
)
def test_bad_files_get_a_clear_verdict(
    tmp_path: Path, name: str, content: bytes, words: list[str]
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataReadError) as info:
        read_table(path)
    message = info.value.one_line()
    for word in words:
        assert word in message, message


def test_missing_file_and_explicit_format(tmp_path: Path) -> None:
    with pytest.raises(DataReadError, match="does not exist"):
        read_table(tmp_path / "nope.csv")
    path = tmp_path / "export.dat"
    FRAME.to_csv(path, index=False)
    assert len(read_table(path)) == 3  # sniffed as text
    assert len(read_table(path, format="csv")) == 3


def test_truncated_parquet(tmp_path: Path) -> None:
    good = tmp_path / "good.parquet"
    FRAME.to_parquet(good)
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(good.read_bytes()[:-20])
    with pytest.raises(DataReadError, match="not a readable Parquet file"):
        read_table(cut)


def test_header_only_csv_is_zero_rows_and_fails_row_count(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("id,name\n")
    contract = Contract.model_validate({"columns": {"id": {}}, "row_count": {"min": 1}})
    report = validate(path, contract)
    assert report.n_rows == 0
    assert not report.passed
    assert report.errors[0].rule == "row_count"
    assert report.source == str(path)


def test_all_null_and_mixed_type_columns_from_csv(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text("id,empty,amount\n1,,10\n2,,x\n3,,2.5\n")
    contract = Contract(
        columns={
            "id": Column(dtype="int"),
            "empty": Column(dtype="float", max_null_fraction=0.5),
            "amount": Column(dtype="float", min=0),
        }
    )
    report = validate(path, contract)
    by_id = {r.id: r for r in report.rules}
    assert by_id["empty.null_fraction"].failed
    assert by_id["empty.null_fraction"].failing_count == 3
    assert "100.00% null" in by_id["empty.null_fraction"].message
    amount = by_id["amount.dtype"]
    assert amount.failed and amount.failing_count == 1
    assert amount.examples == [{"row": 1, "value": "x"}]
    assert not by_id["amount.range"].failed  # converted values are in range


def test_polars_and_arrow_inputs() -> None:
    import polars as pl

    contract = Contract(columns={"id": Column(dtype="int", unique=True), "x": Column(min=0)})
    data = {"id": [1, 2, 2], "x": [1.0, -1.0, None]}
    for frame in (pl.DataFrame(data), pa.table(data), pd.DataFrame(data)):
        report = validate(frame, contract)
        counts = {r.id: r.failing_count for r in report.rules}
        assert counts["id.unique"] == 2 and counts["x.range"] == 1, type(frame)
