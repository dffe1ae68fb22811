"""Capture keeps what was served, to the bit, and monitoring reads it back (issues 16, 17).

Format 2 stores inputs as typed Arrow columns built from many requests at once; these tests
push frames of every dtype serving hands over through the real writer thread and read them
back with monitoring's loader, compare bit patterns, read a format 1 (JSON) file as earlier
versions wrote it, and check that a schema change between requests gives two files.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import loopline as ll
from loopline.monitoring._data import load_capture
from loopline.serving import PredictionCapture

INT64 = st.integers(-(2**63), 2**63 - 1)
FLOATS = st.floats(allow_nan=False) | st.sampled_from([-0.0, 5e-324, 2.2250738585072014e-308])
TEXT = st.text(max_size=8)  # any unicode, surrogates excluded by hypothesis' default


def null(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def same(served: Any, read: Any) -> bool:
    """Equal to the bit: floats by their IEEE pattern (-0.0 is not 0.0), nulls as nulls."""
    if null(served) or null(read):
        return null(served) and null(read)
    if isinstance(served, float):
        bits = np.array([served, read], dtype="float64").view("u8")
        return isinstance(read, float) and bits[0] == bits[1]
    return bool(type(served) is type(read) and served == read)


def values(frame: pd.DataFrame, column: str) -> list[Any]:
    return [v.item() if isinstance(v, np.generic) else v for v in frame[column].tolist()]


@st.composite
def requests(draw: st.DrawFn) -> list[pd.DataFrame]:
    """Several requests of one schema, 1-4 rows each: what the writer concatenates."""
    frames = []
    for _ in range(draw(st.integers(1, 6))):
        n = draw(st.integers(1, 4))
        floats = draw(st.lists(FLOATS | st.none(), min_size=n, max_size=n))
        frames.append(
            pd.DataFrame(
                {
                    "x": np.array([np.nan if v is None else v for v in floats], dtype="float64"),
                    "n": np.array(draw(st.lists(INT64, min_size=n, max_size=n)), dtype="int64"),
                    "m": pd.array(
                        draw(st.lists(INT64 | st.none(), min_size=n, max_size=n)), dtype="Int64"
                    ),
                    "s": pd.Series(
                        draw(st.lists(TEXT | st.none(), min_size=n, max_size=n)), dtype=object
                    ),
                    "flag": np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n))),
                    "plan": pd.Categorical(
                        draw(
                            st.lists(st.sampled_from(["a", "b", "ü", None]), min_size=n, max_size=n)
                        ),
                        categories=draw(st.permutations(["a", "b", "ü"])),
                    ),
                }
            )
        )
    return frames


def capture_all(folder: Path, frames: list[pd.DataFrame], model: str = "m") -> PredictionCapture:
    """Offer each frame as one request (labels and binary proba as a model returns them)
    and flush; ts ascending so the loader's row order is the offer order."""
    capture = PredictionCapture(folder, flush_interval_s=60)  # only close() writes
    now = time.time()
    for i, frame in enumerate(frames):
        labels = np.arange(len(frame), dtype="int64") % 2
        proba = np.column_stack([1 - labels * 0.25, labels * 0.25]).astype("float64")
        assert capture.offer((f"r{i}", now + i * 1e-3, model, 1, "main", 0.5, frame, labels, proba))
    capture.close()
    return capture


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(frames=requests())
def test_captured_values_read_back_to_the_bit(frames: list[pd.DataFrame], tmp_path: Path) -> None:
    folder = tmp_path / f"c{time.monotonic_ns()}"
    capture = capture_all(folder, frames)
    served = pd.concat(frames, ignore_index=True)
    assert capture.written_rows == len(served) and capture.dropped == 0
    scored = load_capture(folder, "m")
    assert len(scored) == len(served)
    assert scored.meta["row"].tolist() == [i for f in frames for i in range(len(f))]
    assert scored.meta["prediction"].tolist() == [i % 2 for f in frames for i in range(len(f))]
    for column in served.columns:
        got, want = values(scored.inputs, column), values(served, column)
        assert all(same(w, g) for w, g in zip(want, got, strict=True)), (column, want, got)
    assert scored.inputs["n"].dtype == "int64" and scored.inputs["m"].dtype == "Int64"
    assert scored.inputs["flag"].dtype == bool and scored.inputs["x"].dtype == "float64"
    assert isinstance(scored.inputs["plan"].dtype, pd.CategoricalDtype)


def test_a_schema_change_between_requests_writes_two_files(tmp_path: Path) -> None:
    """A hot swap to a version with other columns: neither request's values are bent to
    fit the other's (no union of columns, no int turned float)."""
    big = 2**63 - 1
    before = pd.DataFrame({"a": [0.1], "b": np.array([big], dtype="int64")})
    after = pd.DataFrame({"a": np.array([big - 1], dtype="int64"), "c": ["x"]})
    capture_all(tmp_path, [before, after])
    files = sorted(tmp_path.glob("m/*/*.parquet"))
    assert len(files) == 2
    scored = load_capture(tmp_path, "m")
    by_request = dict(zip(scored.meta["request_id"], scored.inputs.to_dict("records"), strict=True))
    assert by_request["r0"]["a"] == 0.1 and by_request["r0"]["b"] == big
    assert by_request["r1"]["a"] == big - 1 and by_request["r1"]["c"] == "x"
    for f in files:  # each file holds only its own request's columns, typed as served
        names = set(pq.read_schema(f).names)
        assert {"inputs.a", "inputs.b"} <= names or {"inputs.a", "inputs.c"} <= names
        assert not {"inputs.b", "inputs.c"} <= names


@settings(max_examples=30, deadline=None)
@given(
    rows=st.lists(st.lists(FLOATS, min_size=3, max_size=3), min_size=1, max_size=4),
    layouts=st.lists(st.sampled_from(["matrix", "columns", "reordered"]), min_size=1, max_size=6),
)
def test_numeric_requests_read_back_in_column_order_however_pandas_holds_them(
    rows: list[list[float]], layouts: list[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """All-float requests take the stacked path: frames held as one numpy block (the fast
    path's) and as one block per column (the exact path's) share a file, and every value
    lands under its own column."""
    matrix = np.array(rows, dtype="float64")
    frames = []
    for layout in layouts:
        if layout == "matrix":
            frames.append(pd.DataFrame(matrix.copy(), columns=["a", "b", "c"]))
        elif layout == "columns":
            frames.append(pd.DataFrame({k: matrix[:, i].copy() for i, k in enumerate("abc")}))
        else:  # one block whose values pandas keeps in another order than the columns
            wide = pd.DataFrame(matrix[:, ::-1].copy(), columns=["c", "b", "a"])
            frames.append(wide[["a", "b", "c"]])
    folder = tmp_path_factory.mktemp("numeric")
    capture_all(folder, frames)
    assert len(list(folder.glob("m/*/*.parquet"))) == 1
    scored = load_capture(folder, "m")
    for i, column in enumerate("abc"):
        want = [v for _ in frames for v in matrix[:, i].tolist()]
        got = values(scored.inputs, column)
        assert all(same(w, g) for w, g in zip(want, got, strict=True)), (column, want, got)


def test_a_format_1_file_written_before_typed_columns_still_reads(tmp_path: Path) -> None:
    """JSON text in `inputs` and `prediction`, as every earlier version wrote it, read next
    to a format 2 file of the same model."""
    old = pa.table(
        {
            "request_id": ["old1", "old2"],
            "row": pa.array([0, 0], pa.int32()),
            "ts": [1.0, 2.0],
            "model": ["m", "m"],
            "version": pa.array([1, 1], pa.int32()),
            "arm": ["main", "main"],
            "latency_ms": [1.0, 1.0],
            "inputs": [json.dumps({"a": 0.1, "s": "é"}), json.dumps({"a": None, "s": None})],
            "prediction": [json.dumps("yes"), json.dumps("no")],
            "probability": pa.array([None, None], pa.float64()),
            "proba": pa.array([None, None], pa.string()),
        }
    )
    folder = tmp_path / "m" / time.strftime("%Y-%m-%d", time.gmtime(1.0))
    folder.mkdir(parents=True)
    pq.write_table(old, folder / "1000-1-1.parquet")
    capture_all(tmp_path, [pd.DataFrame({"a": [0.2], "s": ["z"]})])
    scored = load_capture(tmp_path, "m")
    assert scored.meta["request_id"].tolist() == ["old1", "old2", "r0"]
    assert scored.meta["prediction"].tolist() == ["yes", "no", 0]
    assert values(scored.inputs, "a")[:1] == [0.1] and math.isnan(values(scored.inputs, "a")[1])
    assert values(scored.inputs, "a")[2] == 0.2
    got = values(scored.inputs, "s")
    assert got[0] == "é" and null(got[1]) and got[2] == "z"


def test_values_arrow_cannot_type_are_written_as_json(tmp_path: Path) -> None:
    """A mixed-type object column (a model without a signature accepts it): format 1 for
    that request, still exact, and serving goes on."""
    mixed = pd.DataFrame({"a": pd.Series([1.5, "x", 2**63 - 1], dtype=object)})
    capture = capture_all(tmp_path, [mixed])
    assert capture.write_errors == 0 and capture.written_rows == 3
    (only,) = tmp_path.glob("m/*/*.parquet")
    assert pq.read_schema(only).field("inputs").type == pa.string()
    assert values(load_capture(tmp_path, "m").inputs, "a") == [1.5, "x", 2**63 - 1]


def test_a_full_queue_drops_and_counts(tmp_path: Path) -> None:
    capture = PredictionCapture(tmp_path, max_queue=3, flush_interval_s=60)
    frame = pd.DataFrame({"a": [1.0]})
    item = ("r", time.time(), "m", 1, "main", 1.0, frame, np.array([0]), None)
    accepted = [capture.offer(item) for _ in range(5)]
    assert accepted == [True, True, True, False, False]
    assert capture.dropped == 2 and capture.depth == 3
    capture.close()
    assert capture.written_rows == 3 and capture.depth == 0


def test_served_values_are_captured_to_the_bit(live_server: Callable[..., Any], home: Path) -> None:
    """Through a real server: JSON rows with extreme floats, int64 extremes, unicode and
    nulls come back from the capture as the client sent them."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(0)
    train = pd.DataFrame(
        {
            "x": np.where(rng.uniform(size=200) < 0.1, np.nan, rng.normal(size=200)),
            "n": rng.integers(-5, 5, 200).astype("int64"),
            "s": pd.Series(rng.choice(["a", "ü", None], 200), dtype=object),
        }
    )
    y = (train["n"] > 0).astype(int)
    model = make_pipeline(
        ColumnTransformer(
            [
                ("x", SimpleImputer(), ["x"]),
                ("n", "passthrough", ["n"]),
                ("s", make_pipeline(
                    SimpleImputer(strategy="constant", fill_value="?"),
                    OneHotEncoder(handle_unknown="ignore"),
                ), ["s"]),
            ]
        ),
        LogisticRegression(),
    ).fit(train, y)  # fmt: skip
    with ll.start_run(experiment="cap") as run:
        info = run.log_model(model, signature=ll.infer_signature(train, y))
    ll.promote("cap", ll.register_model(info, "cap").version, "production")
    live = live_server("models:/cap@production")
    sent = {
        "x": [5e-324, -0.0, 1.7976931348623157e308, 0.1 + 0.2, None, 2.2250738585072014e-308],
        "n": [2**63 - 1, -(2**63), 0, 7, -1, 3],
        "s": ["🙂 é", None, "a", "", "ü", "\u2028"],
    }
    rows = [list(r) for r in zip(*sent.values(), strict=True)]
    for i in range(0, len(rows), 2):
        body = {"dataframe_split": {"columns": list(sent), "data": rows[i : i + 2]}}
        r = live.client.post("/invocations", json=body, headers={"x-request-id": f"q{i}"})
        assert r.status_code == 200, r.text
    capture = live.service.capture
    deadline = time.monotonic() + 10
    while capture.written_rows < len(rows) and time.monotonic() < deadline:
        time.sleep(0.05)
    scored = load_capture(home / "capture", "cap")
    order = np.lexsort((scored.meta["row"], scored.meta["request_id"]))
    for column, want in sent.items():
        got = [values(scored.inputs, column)[i] for i in order]
        assert all(same(w, g) for w, g in zip(want, got, strict=True)), (column, want, got)
    assert scored.meta["probability"].between(0, 1).all()
