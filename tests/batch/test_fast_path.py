"""The cheap signature check of batch chunks gives exactly what `Signature.check` gives.

`model_frame` proves columns from Arrow metadata and builds one block when it can; these
tests hold its frames, its errors and the scores of a whole file equal, value for value, to
the pandas path every chunk took before (`to_pandas`, then `Signature.check`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

import loopline as ll
from loopline.batch import score
from loopline.batch._features import frame_of, model_frame
from loopline.errors import InvalidInputError
from loopline.models import ColumnSpec, Signature


def mixed(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """An id, floats with and without nulls, ints, float32, bools and text categories."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    with_nulls = np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n))
    return pd.DataFrame(
        {
            "customer_id": np.arange(n, dtype=np.int64),
            "x": x,
            "maybe": with_nulls,
            "count": rng.integers(0, 9, n),
            "small": rng.normal(size=n).astype(np.float32),
            "flag": rng.random(n) < 0.5,
            "plan": pd.Categorical(rng.choice(["basic", "plus", "pro"], n)),
        }
    )


FEATURES = ["x", "maybe", "count", "small", "flag", "plan"]


def before(table: pa.Table, signature: Signature, start: int = 0) -> pd.DataFrame:
    """The frame a chunk's model got before the fast path: pandas, then `Signature.check`."""
    return signature.check(frame_of(table.select(FEATURES), start), allow_extra=True)


@pytest.fixture
def signature() -> Signature:
    frame = mixed()
    return ll.infer_signature(frame[FEATURES], frame["x"] > 0)


def test_signature_of_the_mixed_frame_is_what_the_tests_assume(signature: Signature) -> None:
    nullable = {c.name: c.nullable for c in signature.inputs}
    assert nullable["maybe"] and not nullable["x"]
    assert {c.name: c.dtype for c in signature.inputs}["plan"] == "category"


@pytest.mark.parametrize(
    "table",
    [
        pa.Table.from_pandas(mixed(), preserve_index=False),  # pandas metadata: categories
        pa.table({c: mixed()[c].to_numpy() for c in mixed().columns if c != "plan"}).append_column(
            "plan",
            pa.array(mixed()["plan"].astype(str)),  # text to be re-coded by the check
        ),
        # Chunked columns, as `rechunk` makes them.
        pa.concat_tables(
            [pa.Table.from_pandas(mixed(300, s), preserve_index=False) for s in (1, 2)]
        ),
    ],
    ids=["parquet-like", "text-categories", "two-chunks"],
)
def test_mixed_frames_with_nulls_equal_the_full_check(
    table: pa.Table, signature: Signature
) -> None:
    got = model_frame(table, signature, FEATURES, start=1000)
    pd.testing.assert_frame_equal(got, before(table, signature, 1000), check_exact=True)


def test_one_block_of_floats_equals_the_full_check_in_values_and_memory_order() -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(size=(500, 4))
    values[::7, 2] = np.nan
    frame = pd.DataFrame(values, columns=["a", "b", "c", "d"])
    signature = ll.infer_signature(frame, frame["a"] > 0)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    got = model_frame(table, signature, ["a", "b", "c", "d"], start=5)
    want = signature.check(frame_of(table, 5), allow_extra=True)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    # What the model reads: the same array, laid out column by column as pandas does.
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    assert np.asarray(got).flags.f_contiguous == np.asarray(want).flags.f_contiguous


def test_casts_and_int64_metadata_take_the_full_check_path() -> None:
    frame = pd.DataFrame(
        {
            "i": pd.array([1, 2, 3], dtype="Int64"),  # pandas' nullable ints, no nulls
            "f": np.array([1, 2, 3], dtype=np.int32),  # ints where the model wants floats
            "g": [0.5, 1.5, 2.5],
        }
    )
    signature = Signature(
        (
            ColumnSpec("i", "int64", nullable=False),
            ColumnSpec("f", "float64", nullable=False),
            ColumnSpec("g", "float64", nullable=False),
        )
    )
    table = pa.Table.from_pandas(frame, preserve_index=False)
    got = model_frame(table, signature, ["i", "f", "g"], start=0)
    want = signature.check(frame_of(table, 0), allow_extra=True)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert str(got["i"].dtype) == "int64" and str(got["f"].dtype) == "float64"


@pytest.mark.parametrize(
    ("column", "bad"),
    [("x", np.nan), ("count", None), ("flag", None)],
    ids=["nan-in-strict-float", "null-int", "null-bool"],
)
def test_errors_read_exactly_as_the_full_checks(
    signature: Signature, column: str, bad: object
) -> None:
    frame = mixed(50).astype({column: object})
    frame.loc[7, column] = bad
    if column == "x":
        frame["x"] = frame["x"].astype(float)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    with pytest.raises(InvalidInputError) as fast:
        model_frame(table, signature, FEATURES, start=0)
    with pytest.raises(InvalidInputError) as full:
        before(table, signature)
    assert fast.value.message == full.value.message
    assert fast.value.details == full.value.details


def test_scores_of_a_mixed_file_with_nulls_equal_the_in_memory_path(tmp_path: Path) -> None:
    frame = mixed(900)
    y = (frame["x"] + frame["count"] / 4 + frame["flag"] > 1).astype(int)
    columns = ColumnTransformer(
        [
            ("nulls", SimpleImputer(), ["maybe"]),
            ("plan", OneHotEncoder(), ["plan"]),
            ("rest", "passthrough", ["x", "count", "small", "flag"]),
        ]
    )
    model = make_pipeline(columns, GradientBoostingClassifier(n_estimators=20, random_state=0))
    with ll.start_run(experiment="mixed") as run:
        info = run.log_model(
            model.fit(frame[FEATURES], y), signature=ll.infer_signature(frame[FEATURES], y)
        )
    ll.register_model(info, "mixed")
    frame.to_parquet(tmp_path / "in.parquet", index=False)
    score("models:/mixed/1", tmp_path / "in.parquet", tmp_path / "out.parquet", chunk_size=128)
    out = pd.read_parquet(tmp_path / "out.parquet")
    loaded = ll.load_model("models:/mixed/1")  # the public path: the full signature check
    assert out["customer_id"].tolist() == frame["customer_id"].tolist()
    np.testing.assert_array_equal(out["prediction"].to_numpy(), loaded.predict(frame))
    assert out["prediction"].dtype == np.int64
    np.testing.assert_array_equal(out["probability"].to_numpy(), loaded.predict_proba(frame)[:, 1])
