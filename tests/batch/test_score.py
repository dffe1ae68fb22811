"""Batch scoring on real files: outputs match one in-memory call exactly, whatever the chunks."""

from __future__ import annotations

import json
import math
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LinearRegression, LogisticRegression

import loopline as ll
from loopline.batch import ComputeEngine, LocalEngine, score
from loopline.store import ModelVersion
from tests.batch.files import read, write

T = TypeVar("T")
R = TypeVar("R")


def expected(frame: pd.DataFrame, uri: str = "models:/churn/1") -> tuple[Any, Any]:
    """What one in-memory call on the whole frame gives: (predictions, P(class 1))."""
    model = ll.load_model(uri)
    return model.predict(frame), model.predict_proba(frame)[:, 1]


def assert_matches_in_memory(out: pd.DataFrame, frame: pd.DataFrame) -> None:
    labels, proba = expected(frame)
    np.testing.assert_array_equal(out["probability"].to_numpy(), proba)
    np.testing.assert_array_equal(out["prediction"].to_numpy(), labels)
    assert (out["model_version"] == "churn/1").all()


@pytest.mark.parametrize(
    ("src", "dst"),
    [("in.parquet", "out.parquet"), ("in.csv", "out.csv"), ("in.csv", "out.parquet")],
)
def test_scores_equal_one_in_memory_call(
    churn_v1: ModelVersion, customers: pd.DataFrame, tmp_path: Path, src: str, dst: str
) -> None:
    source = write(customers, tmp_path / src)
    calls: list[tuple[int, int | None]] = []
    report = score(
        "models:/churn/1",
        source,
        tmp_path / dst,
        chunk_size=97,  # 800 rows: 8 full chunks and one of 24
        progress=lambda done, total: calls.append((done, total)),
    )
    out = read(tmp_path / dst)
    assert list(out.columns) == [
        "customer_id",
        "segment",
        "prediction",
        "probability",
        "model_version",
    ]
    assert out["customer_id"].tolist() == customers["customer_id"].tolist()
    assert out["segment"].tolist() == customers["segment"].tolist()
    assert_matches_in_memory(out, customers)
    assert (report.rows, report.chunks, report.model_version) == (800, 9, "churn/1")
    assert report.id_columns == ("customer_id", "segment")
    assert report.model_sha256 == churn_v1.sha256
    assert [done for done, _ in calls] == [*range(0, 800, 97), 800]
    assert {total for _, total in calls} == ({800} if src.endswith(".parquet") else {None})


def test_chunk_size_one(churn_v1: ModelVersion, customers: pd.DataFrame, tmp_path: Path) -> None:
    frame = customers.head(25)
    report = score(
        "models:/churn/1", write(frame, tmp_path / "in.csv"), tmp_path / "o.csv", chunk_size=1
    )
    assert (report.rows, report.chunks) == (25, 25)
    assert_matches_in_memory(read(tmp_path / "o.csv"), frame)


def test_id_option_keeps_only_the_named_columns_and_alias_resolves_once(
    churn_v1: ModelVersion, customers: pd.DataFrame, tmp_path: Path
) -> None:
    ll.promote("churn", 1, "production")
    source = write(customers, tmp_path / "in.parquet")
    report = score(
        "models:/churn@production", source, tmp_path / "o.parquet", id_columns=["customer_id"]
    )
    out = read(tmp_path / "o.parquet")
    assert list(out.columns) == ["customer_id", "prediction", "probability", "model_version"]
    assert report.model_version == "churn/1" and report.model_uri == "models:/churn@production"
    assert_matches_in_memory(out, customers)


def test_a_run_uri_scores_with_the_logged_model(
    churn_v1: ModelVersion, customers: pd.DataFrame, tmp_path: Path
) -> None:
    uri = f"runs:/{churn_v1.run_id}/{churn_v1.artifact_path}"
    report = score(uri, write(customers, tmp_path / "in.parquet"), tmp_path / "o.parquet")
    out = read(tmp_path / "o.parquet")
    assert report.model_version == uri and (out["model_version"] == uri).all()
    np.testing.assert_array_equal(out["probability"], expected(customers)[1])


def _register(model: Any, X: pd.DataFrame, y: pd.Series, name: str) -> str:
    with ll.start_run(experiment=name) as run:
        info = run.log_model(model.fit(X, y), signature=ll.infer_signature(X, y))
    return ll.register_model(info, name).uri


def test_multiclass_gets_a_probability_column_per_class(
    churn_like: tuple[pd.DataFrame, pd.Series], tmp_path: Path
) -> None:
    X, _ = churn_like
    features = X[["a", "b"]]
    y = pd.Series(np.where(X["a"] > 0.5, "high", np.where(X["a"] < -0.5, "low", "mid")))
    uri = _register(LogisticRegression(), features, y, "tiers")
    score(uri, write(X, tmp_path / "in.parquet"), tmp_path / "o.parquet", chunk_size=50)
    out = read(tmp_path / "o.parquet")
    assert list(out.columns) == [
        "segment",
        "prediction",
        "probability_high",
        "probability_low",
        "probability_mid",
        "model_version",
    ]
    model = ll.load_model(uri)
    proba = model.predict_proba(features)
    np.testing.assert_array_equal(out.filter(like="probability_").to_numpy(), proba)
    assert out["prediction"].tolist() == list(model.predict(features))


def test_regressor_has_predictions_and_no_probability(
    churn_like: tuple[pd.DataFrame, pd.Series], tmp_path: Path
) -> None:
    X, _ = churn_like
    target = pd.Series(2.0 * X["a"] - X["b"], name="spend")
    uri = _register(LinearRegression(), X[["a", "b"]], target, "spend")
    score(uri, write(X, tmp_path / "in.csv"), tmp_path / "o.parquet", chunk_size=64)
    out = read(tmp_path / "o.parquet")
    assert list(out.columns) == ["segment", "prediction", "model_version"]
    np.testing.assert_array_equal(out["prediction"], ll.load_model(uri).predict(X))


class PicklingEngine:
    """A stand-in for an engine that ships work to other processes: the function and every
    chunk go through pickle, as they would to a worker."""

    name = "pickling"

    def __init__(self) -> None:
        self.chunks = 0

    def map_chunks(self, fn: Callable[[T], R], chunks: Iterable[T]) -> Iterator[R]:
        remote_fn = pickle.loads(pickle.dumps(fn))
        for chunk in chunks:
            self.chunks += 1
            yield remote_fn(pickle.loads(pickle.dumps(chunk)))


@pytest.mark.parametrize("engine", [PicklingEngine(), LocalEngine(prefetch=0), LocalEngine(3)])
def test_any_engine_gives_the_same_output(
    churn_v1: ModelVersion, customers: pd.DataFrame, tmp_path: Path, engine: ComputeEngine
) -> None:
    source = write(customers, tmp_path / "in.parquet")
    report = score("models:/churn/1", source, tmp_path / "o.parquet", chunk_size=300, engine=engine)
    assert report.engine == engine.name and report.chunks == 3
    assert_matches_in_memory(read(tmp_path / "o.parquet"), customers)
    if isinstance(engine, PicklingEngine):
        assert engine.chunks == 3


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    rows=st.integers(min_value=1, max_value=120),
    chunk_size=st.integers(min_value=1, max_value=150),
    fmt=st.sampled_from([".parquet", ".csv"]),
)
def test_any_chunking_of_any_row_count_gives_the_same_output(
    churn_v1: ModelVersion, customers: pd.DataFrame, rows: int, chunk_size: int, fmt: str
) -> None:
    frame = customers.iloc[200 : 200 + rows]
    with tempfile.TemporaryDirectory() as folder:
        source = write(frame, Path(folder) / f"in{fmt}")
        report = score("models:/churn/1", source, Path(folder) / "o.parquet", chunk_size=chunk_size)
        out = read(Path(folder) / "o.parquet")
    assert (report.rows, report.chunks) == (rows, math.ceil(rows / chunk_size))
    assert out["customer_id"].tolist() == frame["customer_id"].tolist()
    assert_matches_in_memory(out, frame)


def test_report_is_json_ready(
    churn_v1: ModelVersion, customers: pd.DataFrame, tmp_path: Path
) -> None:
    report = score("models:/churn/1", write(customers, tmp_path / "i.csv"), tmp_path / "o.csv")
    data = json.loads(json.dumps(report.as_dict()))
    assert data["rows"] == 800 and data["rows_per_second"] > 0 and data["engine"] == "local"
    assert data["output_columns"] == list(read(tmp_path / "o.csv").columns)


def test_linear_model_scores_match_to_the_last_bits(
    train_version: Callable[..., ModelVersion], customers: pd.DataFrame, tmp_path: Path
) -> None:
    """numpy computes a one-row matrix product with another kernel than a many-row one, so a
    linear model's score for a row alone can differ in the last bit from the same row in a
    batch (sklearn's own predict_proba does the same). Chunking adds no other difference."""
    train_version()
    source = write(customers.head(40), tmp_path / "in.parquet")
    score("models:/churn/1", source, tmp_path / "o.parquet", chunk_size=1)
    _, proba = expected(customers.head(40))
    np.testing.assert_allclose(read(tmp_path / "o.parquet")["probability"], proba, rtol=1e-15)
