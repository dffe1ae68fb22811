"""The batch suite's key cases on both engines: the Ray engine's rows and values equal the
local engine's, on the Ray Data path (Parquet in, folder of partitions out) and on the task
path (`map_chunks`: any input, one output file)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import loopline as ll
from loopline.batch import LocalEngine, resolve_engine, score
from loopline.errors import ConfigError, InvalidInputError
from loopline.store import ModelVersion
from tests.batch.files import read, write
from tests.batch.ray_cluster import ray_cluster

__all__ = ["ray_cluster"]  # the session fixture, used by name below
# One worker holds the session's Ray cluster (make test runs the suite on 2 workers).
pytestmark = pytest.mark.xdist_group("ray")

URI = "models:/churn/1"
ENGINES = ["local", "ray"]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    if request.param == "ray":
        request.getfixturevalue("ray_cluster")
    return str(request.param)


def read_out(path: Path) -> pd.DataFrame:
    if path.is_dir():
        parts = sorted(path.glob("part-*.parquet"))
        return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    return read(path)


def partitions(frame: pd.DataFrame, folder: Path, sizes: list[int]) -> Path:
    """`frame` split into Parquet files of `sizes` rows, in a hive-style folder tree."""
    start = 0
    for i, n in enumerate(sizes):
        part = folder / f"day=2024-01-0{i + 1}"
        part.mkdir(parents=True)
        frame.iloc[start : start + n].to_parquet(part / "data.parquet", index=False)
        start += n
    assert start == len(frame)
    return folder


def in_memory(frame: pd.DataFrame) -> tuple[Any, Any]:
    model = ll.load_model(URI)
    return model.predict(frame), model.predict_proba(frame)[:, 1]


@pytest.mark.parametrize("layout", ["file", "partitions"])
def test_parquet_to_partitioned_output_is_equal_on_both_engines(
    churn_v1: ModelVersion, customers: pd.DataFrame, tmp_path: Path, engine: str, layout: str
) -> None:
    if layout == "file":
        source = write(customers, tmp_path / "in.parquet")
    else:
        source = partitions(customers, tmp_path / "in", [300, 250, 250])
    out = tmp_path / "scores"
    report = score(URI, source, out, chunk_size=128, engine=engine)
    got = read_out(out)
    assert report.engine == engine and report.rows == 800
    assert list(got.columns) == [
        "customer_id",
        "segment",
        "prediction",
        "probability",
        "model_version",
    ]
    assert got["customer_id"].tolist() == customers["customer_id"].tolist()  # order kept
    labels, proba = in_memory(customers)
    np.testing.assert_array_equal(got["probability"].to_numpy(), proba)
    np.testing.assert_array_equal(got["prediction"].to_numpy(), labels)
    assert (got["model_version"] == "churn/1").all()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left


def test_engines_write_identical_tables(
    churn_v1: ModelVersion, customers: pd.DataFrame, tmp_path: Path, ray_cluster: Any
) -> None:
    # many partitions: Ray Data's v2 reader mixed up their order (see `_ordered_reads`)
    source = tmp_path / "in"
    source.mkdir()
    for i in range(16):
        customers.iloc[i * 50 : (i + 1) * 50].to_parquet(source / f"p{i:02d}.parquet")
    score(URI, source, tmp_path / "local", chunk_size=64, engine="local")
    score(URI, source, tmp_path / "ray", chunk_size=64, engine="ray")
    score(URI, source, tmp_path / "ray.parquet", chunk_size=64, engine="ray")  # task path
    local = read_out(tmp_path / "local")
    pd.testing.assert_frame_equal(read_out(tmp_path / "ray"), local)
    pd.testing.assert_frame_equal(read_out(tmp_path / "ray.parquet"), local)


def test_csv_input_scores_through_ray_tasks(
    churn_v1: ModelVersion, customers: pd.DataFrame, tmp_path: Path, engine: str
) -> None:
    source = write(customers, tmp_path / "in.csv")
    report = score(URI, source, tmp_path / "o.parquet", chunk_size=97, engine=engine)
    assert (report.rows, report.chunks, report.engine) == (800, 9, engine)
    got = read_out(tmp_path / "o.parquet")
    np.testing.assert_array_equal(got["probability"].to_numpy(), in_memory(customers)[1])


@pytest.mark.parametrize("output", ["o.parquet", "folder"])
def test_contract_quarantine_counts_agree(
    churn_v1: ModelVersion, customers: pd.DataFrame, tmp_path: Path, engine: str, output: str
) -> None:
    spec = tmp_path / "contract.yaml"
    spec.write_text(
        "columns:\n  a: {dtype: float, max: 1.5, severity: quarantine}\n"
        "  b: {dtype: float, max: 2.0, severity: warn}\n"
    )
    source = write(customers, tmp_path / "in.parquet")
    report = score(URI, source, tmp_path / output, chunk_size=150, contract=spec, engine=engine)
    kept = customers[customers["a"] <= 1.5]
    assert report.quarantined_rows == len(customers) - len(kept) > 0
    assert report.rows == len(kept) and report.contract_warnings == ("b.range",)
    got = read_out(tmp_path / output)
    assert got["customer_id"].tolist() == kept["customer_id"].tolist()
    np.testing.assert_array_equal(got["probability"].to_numpy(), in_memory(kept)[1])


@pytest.mark.parametrize("output", ["o.parquet", "folder"])
def test_a_failing_model_is_one_clear_line_and_nothing_is_written(
    churn_v1: ModelVersion, customers: pd.DataFrame, tmp_path: Path, engine: str, output: str
) -> None:
    frame = customers.assign(a=customers["a"].astype("object"))
    frame.loc[650, "a"] = "oops"
    source = tmp_path / "in.parquet"
    frame.astype({"a": "string"}).to_parquet(source, index=False)
    with pytest.raises(InvalidInputError) as exc:
        score(URI, source, tmp_path / output, chunk_size=200, engine=engine)
    assert type(exc.value) is InvalidInputError
    assert "\n" not in exc.value.one_line() and "in.parquet" in exc.value.one_line()
    assert not (tmp_path / output).exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_engine_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOPLINE_ENGINE", "local")
    assert isinstance(resolve_engine(), LocalEngine)
    monkeypatch.setenv("LOOPLINE_ENGINE", "spark")
    with pytest.raises(InvalidInputError, match=r"unknown compute engine 'spark' \(from LOOPLINE"):
        resolve_engine()


def test_ray_engine_without_ray_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray → ImportError
    with pytest.raises(ConfigError) as exc:
        resolve_engine("ray")
    assert "pip install 'loopline[ray]'" in exc.value.one_line()


def drift_inputs(tmp_path: Path) -> tuple[pd.DataFrame, pd.DataFrame, Path]:
    rng = np.random.default_rng(11)
    reference = pd.DataFrame({"x": rng.normal(size=5_000), "c": rng.choice(["a", "b"], size=5_000)})
    cur = pd.DataFrame(
        {
            "x": rng.normal(loc=0.3, size=30_000),
            "c": rng.choice(["a", "b", "z"], size=30_000, p=[0.5, 0.4, 0.1]),
        }
    )
    folder = tmp_path / "current"
    folder.mkdir()
    for i, start in enumerate(range(0, len(cur), 7_000)):
        cur.iloc[start : start + 7_000].to_parquet(folder / f"p{i}.parquet", index=False)
    return reference, cur, folder


def test_drift_over_partitions_is_equal_on_both_engines(tmp_path: Path, ray_cluster: Any) -> None:
    from loopline.batch import RayEngine, drift_dataset
    from loopline.stats import drift_frame, prepare_references

    reference, cur, folder = drift_inputs(tmp_path)
    refs = prepare_references(reference)
    local = drift_dataset(refs, folder, engine="local", chunk_size=4_000)
    ray_data = drift_dataset(refs, folder, engine="ray", chunk_size=3_000)  # Ray Data path
    csv = write(cur, tmp_path / "cur.csv")
    ray_tasks = drift_dataset(refs, csv, engine=RayEngine(), chunk_size=5_000)  # task path
    assert ray_data == local
    assert ray_tasks["c"] == local["c"]
    for key in ("psi", "js", "n_cur", "cur_fractions"):
        assert ray_tasks["x"][key] == local["x"][key]
    exact = drift_frame(refs, cur)
    assert local["x"]["psi"] == exact["x"]["psi"] and local["x"]["js"] == exact["x"]["js"]
    assert local["x"]["ks"] <= exact["x"]["ks"] <= local["x"]["ks"] + local["x"]["ks_error_bound"]
    assert local["c"]["chi2"] == pytest.approx(exact["c"]["chi2"], rel=1e-12)
    assert local["c"]["unseen"] == ["z"]


def test_drift_names_a_missing_column(tmp_path: Path) -> None:
    from loopline.batch import drift_dataset

    reference, _, folder = drift_inputs(tmp_path)
    with pytest.raises(InvalidInputError, match="has no column 'extra'"):
        drift_dataset(reference.assign(extra=1.0), folder)
