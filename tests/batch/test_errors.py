"""Bad input gets one line naming what and where, and never leaves a partial output behind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import loopline as ll
from loopline.batch import score
from loopline.errors import InvalidInputError, LooplineError, NotFoundError
from loopline.store import ModelVersion
from tests.batch.files import write

URI = "models:/churn/1"


def one_line(exc: pytest.ExceptionInfo[LooplineError]) -> str:
    line = exc.value.one_line()
    assert "\n" not in line
    return line


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def test_missing_feature_column_is_named(
    churn_v1: ModelVersion, customers: pd.DataFrame, tmp_path: Path
) -> None:
    source = write(customers.drop(columns="b"), tmp_path / "in.parquet")
    with pytest.raises(InvalidInputError) as exc:
        score(URI, source, tmp_path / "out.parquet")
    assert "has no column 'b' (float64), which model churn/1 reads" in one_line(exc)
    assert not (tmp_path / "out.parquet").exists()


@pytest.mark.parametrize(
    ("src", "dst", "message"),
    [
        ("in.json", "out.parquet", "in.json as input: unknown extension .json"),
        ("in.parquet", "out.xlsx", "unknown extension .xlsx"),
        ("in.parquet", "out.csv.gz", "unknown extension .gz"),
    ],
)
def test_unknown_extensions_are_refused(
    churn_v1: ModelVersion,
    customers: pd.DataFrame,
    tmp_path: Path,
    src: str,
    dst: str,
    message: str,
) -> None:
    source = tmp_path / src
    source.write_bytes(b"{}")
    if src.endswith(".parquet"):
        write(customers, source)
    with pytest.raises(InvalidInputError) as exc:
        score(URI, source, tmp_path / dst)
    assert message in one_line(exc)
    assert not (tmp_path / dst).exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "is empty"),
        ("empty.parquet", b"", "is empty"),
        ("header.csv", b"customer_id,a,b\n", "has no rows"),
        ("truncated.parquet", b"PAR1 not really", "cannot read"),
    ],
)
def test_empty_or_broken_files_are_refused(
    churn_v1: ModelVersion, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(InvalidInputError) as exc:
        score(URI, tmp_path / name, tmp_path / "out.parquet")
    assert message in one_line(exc)
    assert not (tmp_path / "out.parquet").exists() and leftovers(tmp_path) == []


def test_parquet_without_rows_is_refused(
    churn_v1: ModelVersion, customers: pd.DataFrame, tmp_path: Path
) -> None:
    source = write(customers.head(0), tmp_path / "none.parquet")
    with pytest.raises(InvalidInputError, match="has no rows"):
        score(URI, source, tmp_path / "out.parquet")


def test_missing_input_file_and_unknown_model(
    churn_v1: ModelVersion, customers: pd.DataFrame, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInputError, match="does not exist"):
        score(URI, tmp_path / "nope.parquet", tmp_path / "out.parquet")
    source = write(customers, tmp_path / "in.parquet")
    with pytest.raises(NotFoundError, match="no version 7"):
        score("models:/churn/7", source, tmp_path / "out.parquet")
    with pytest.raises(NotFoundError):
        score("models:/ghost@production", source, tmp_path / "out.parquet")
    with pytest.raises(InvalidInputError, match="not a model URI"):
        score("churn", source, tmp_path / "out.parquet")


def test_bad_value_mid_file_leaves_no_output_and_keeps_the_old_one(
    churn_v1: ModelVersion, customers: pd.DataFrame, tmp_path: Path
) -> None:
    lines = write(customers, tmp_path / "in.csv").read_text().splitlines()
    row = lines[651].split(",")
    row[1] = "oops"  # feature a of data row 651
    lines[651] = ",".join(row)
    (tmp_path / "in.csv").write_text("\n".join(lines) + "\n")
    previous = tmp_path / "out.parquet"
    previous.write_bytes(b"yesterday's scores")
    with pytest.raises(InvalidInputError) as exc:
        score(URI, tmp_path / "in.csv", previous, chunk_size=100)
    assert "cannot read" in one_line(exc) and "oops" in one_line(exc)
    assert previous.read_bytes() == b"yesterday's scores"
    assert leftovers(tmp_path) == []


class Exploding:
    """A model that cannot take large values of a, as a user's model might."""

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        if (X["a"] > 2.5).any():
            raise ValueError("a is out of range")
        return np.zeros(len(X))


def test_model_failure_names_the_rows(
    customers: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A custom class is a pickle: logged and loaded with both opt-ins, it runs in a child
    # process, and its failures still name the rows.
    monkeypatch.setenv("LOOPLINE_ALLOW_UNSAFE_PICKLE", "1")
    features = customers[["a", "b"]]
    with ll.start_run(experiment="fragile") as run:
        info = run.log_model(
            Exploding(), signature=ll.infer_signature(features), unsafe_pickle=True
        )
    ll.register_model(info, "fragile")
    frame = customers.copy()
    frame.loc[250, "a"] = 9.0
    source = write(frame, tmp_path / "in.parquet")
    with pytest.raises(InvalidInputError) as exc:
        score("models:/fragile/1", source, tmp_path / "out.parquet", chunk_size=100)
    assert (
        "model fragile/1 failed on in.parquet rows 200 to 299: ValueError: a is out of range"
        in one_line(exc)
    )
    assert not (tmp_path / "out.parquet").exists() and leftovers(tmp_path) == []


def test_missing_value_names_the_chunk(
    churn_v1: ModelVersion, customers: pd.DataFrame, tmp_path: Path
) -> None:
    frame = customers.copy()
    frame.loc[250, "a"] = np.nan  # gradient boosting takes no missing values
    source = write(frame, tmp_path / "in.parquet")
    with pytest.raises(InvalidInputError) as exc:
        score(URI, source, tmp_path / "out.parquet", chunk_size=100)
    assert one_line(exc).startswith("in.parquet rows 200 to 299: column 'a' ")
    assert not (tmp_path / "out.parquet").exists() and leftovers(tmp_path) == []


def test_wrong_dtype_names_column_and_rows(
    churn_v1: ModelVersion, customers: pd.DataFrame, tmp_path: Path
) -> None:
    source = write(customers.assign(b=customers["segment"]), tmp_path / "in.parquet")
    with pytest.raises(InvalidInputError) as exc:
        score(URI, source, tmp_path / "out.parquet", chunk_size=500)
    assert "in.parquet rows 0 to 499: column 'b' is string" in one_line(exc)


def test_id_columns_must_exist_and_not_shadow_outputs(
    churn_v1: ModelVersion, customers: pd.DataFrame, tmp_path: Path
) -> None:
    source = write(customers.assign(prediction=1), tmp_path / "in.parquet")
    with pytest.raises(InvalidInputError, match="id column 'cust' is not in"):
        score(URI, source, tmp_path / "out.parquet", id_columns=["cust"])
    with pytest.raises(InvalidInputError, match="input column 'prediction' has the name of"):
        score(URI, source, tmp_path / "out.parquet")
    report = score(URI, source, tmp_path / "out.parquet", id_columns=["customer_id"])
    assert report.rows == 800


@pytest.mark.parametrize("chunk_size", [0, -5, 2.5, True])
def test_chunk_size_must_be_a_positive_int(
    churn_v1: ModelVersion, customers: pd.DataFrame, tmp_path: Path, chunk_size: object
) -> None:
    source = write(customers, tmp_path / "in.parquet")
    with pytest.raises(InvalidInputError, match="chunk_size must be a positive whole number"):
        score(URI, source, tmp_path / "o.parquet", chunk_size=chunk_size)  # type: ignore[arg-type]


def test_unknown_engine_and_output_over_input(
    churn_v1: ModelVersion, customers: pd.DataFrame, tmp_path: Path
) -> None:
    source = write(customers, tmp_path / "in.parquet")
    with pytest.raises(InvalidInputError, match="unknown compute engine 'spark'"):
        score(URI, source, tmp_path / "o.parquet", engine="spark")
    with pytest.raises(InvalidInputError, match="is the input file"):
        score(URI, source, source)
    with pytest.raises(InvalidInputError, match=r"folder .* does not exist"):
        score(URI, source, tmp_path / "missing" / "o.parquet")


def test_engine_comes_from_the_settings_when_not_given(
    churn_v1: ModelVersion, customers: pd.DataFrame, tmp_path: Path
) -> None:
    source = write(customers, tmp_path / "in.parquet")
    Path("loopline.toml").write_text('[loopline]\nengine = "dask"\n')  # the test's working dir
    with pytest.raises(InvalidInputError, match=r"'dask' \(from LOOPLINE_ENGINE or loopline"):
        score(URI, source, tmp_path / "o.parquet")
    assert not (tmp_path / "o.parquet").exists()
