from __future__ import annotations

import json
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loopline.errors import InvalidInputError
from loopline.models import ColumnSpec, OutputSpec, Signature, infer_signature


def churn_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "tenure": np.array([1, 5, 12], dtype="int64"),
            "spend": [9.5, 20.0, 31.25],
            "active": [True, False, True],
            "plan": pd.Series(["basic", "pro", "basic"], dtype="str"),
            "region": pd.Categorical(["eu", "us", "eu"]),
            "since": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]).astype(
                "datetime64[ns]"
            ),
        }
    )


def roundtrip(sig: Signature) -> Signature:
    return Signature.from_dict(json.loads(json.dumps(sig.to_dict(), allow_nan=False)))


# inference ---------------------------------------------------------------------------


def test_infer_names_every_dtype_stably() -> None:
    sig = infer_signature(churn_frame())
    assert [(c.name, c.dtype) for c in sig.inputs] == [
        ("tenure", "int64"),
        ("spend", "float64"),
        ("active", "bool"),
        ("plan", "string"),
        ("region", "category"),
        ("since", "datetime64[ns]"),
    ]
    assert sig.inputs[4].categories == ("eu", "us")
    assert sig.output is None


def test_nullable_and_object_columns_share_the_numpy_names() -> None:
    df = pd.DataFrame(
        {
            "a": pd.array([1, None], dtype="Int64"),
            "b": pd.Series(["x", None], dtype=object),
            "c": pd.array([True, None], dtype="boolean"),
            "d": pd.Series(["x", "y"], dtype="string[python]"),
        }
    )
    assert [c.dtype for c in infer_signature(df).inputs] == ["int64", "string", "bool", "string"]


def test_numpy_columns_are_named_by_position() -> None:
    sig = infer_signature(np.zeros((4, 3), dtype="float32"))
    assert sig.inputs == tuple(ColumnSpec(str(i), "float32", nullable=False) for i in range(3))


def test_one_dimensional_array_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="2-D"):
        infer_signature(np.zeros(4))


def test_pyarrow_table() -> None:
    table = pa.table({"n": pa.array([1, 2], pa.int32()), "s": ["a", "b"], "f": [0.5, 1.5]})
    sig = infer_signature(table)
    assert [(c.name, c.dtype) for c in sig.inputs] == [
        ("n", "int32"),
        ("s", "string"),
        ("f", "float64"),
    ]


def test_duplicate_columns_are_refused() -> None:
    df = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(InvalidInputError, match="'a' appears more than once"):
        infer_signature(df)


def test_float_target_is_regression() -> None:
    out = infer_signature(churn_frame(), y=np.array([0.5, 1.0, 2.0])).output
    assert out == OutputSpec("float64", "regression", None, 1)


def test_label_targets_carry_sorted_classes() -> None:
    df = churn_frame()
    assert infer_signature(df, y=[1, 0, 1]).output == OutputSpec("int64", "classification", (0, 1))
    out = infer_signature(df, y=pd.Series(["yes", "no", "maybe"], dtype="category")).output
    assert out == OutputSpec("category", "classification", ("maybe", "no", "yes"))
    assert infer_signature(df, y=[True, False, True]).output == OutputSpec(
        "bool", "classification", (False, True)
    )


def test_many_labels_drop_the_class_list() -> None:
    df = pd.DataFrame({"x": np.arange(1500)})
    assert infer_signature(df, y=np.arange(1500)).output == OutputSpec("int64", "regression")
    labels = [f"c{i}" for i in range(1500)]
    assert infer_signature(df, y=labels).output == OutputSpec("string", "classification")


def test_predictions_set_dtype_and_width_and_y_sets_the_classes() -> None:
    df = churn_frame()
    proba = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    out = infer_signature(df, y=[1, 0, 1], predictions=proba).output
    assert out == OutputSpec("float64", "classification", (0, 1), width=2)
    # A few predictions rarely show every class: no class list without y.
    assert infer_signature(df, predictions=np.array([1, 1, 1])).output == OutputSpec(
        "int64", "classification"
    )
    assert infer_signature(df, predictions=proba).output == OutputSpec(
        "float64", "multioutput", None, 2
    )


# serialization -----------------------------------------------------------------------


def test_to_dict_is_json_and_round_trips() -> None:
    sig = infer_signature(churn_frame(), y=["a", "b", "a"])
    assert roundtrip(sig) == sig


@pytest.mark.parametrize(
    "bad",
    [
        None,
        {"inputs": "tenure"},
        {"inputs": [{"name": "a"}]},
        {"inputs": [{"name": "a", "dtype": "int64"}, {"name": "a", "dtype": "int64"}]},
        {"inputs": [], "output": {"dtype": "int64", "kind": "psychic", "width": 1}},
        {"inputs": [], "output": {"dtype": "int64", "kind": "regression", "width": 0}},
        {"inputs": [{"name": "a", "dtype": "category", "categories": [{"x": 1}]}]},
    ],
)
def test_malformed_dicts_are_refused(bad: Any) -> None:
    with pytest.raises(InvalidInputError, match="signature is malformed"):
        Signature.from_dict(bad)


# check -------------------------------------------------------------------------------


def test_check_passes_a_matching_frame_through() -> None:
    df = churn_frame()
    assert infer_signature(df).check(df) is df


def test_check_orders_columns_like_the_signature() -> None:
    df = churn_frame()
    out = infer_signature(df).check(df[df.columns[::-1]])
    assert list(out.columns) == list(df.columns)


def test_wrong_dtype_names_the_column_and_the_fix() -> None:
    sig = infer_signature(churn_frame())
    with pytest.raises(InvalidInputError) as info:
        sig.check(churn_frame().assign(tenure=["1", "5", "12"]))
    assert info.value.one_line() == (
        "column 'tenure' is string, the model expects int64 — cast it or retrain"
    )
    assert info.value.details == {
        "problems": [
            {"column": "tenure", "problem": "dtype", "expected": "int64", "actual": "string"}
        ]
    }


def test_missing_and_extra_columns_are_named() -> None:
    sig = infer_signature(churn_frame())
    with pytest.raises(InvalidInputError, match="column 'spend' is missing, the model expects"):
        sig.check(churn_frame().drop(columns="spend"))
    with pytest.raises(InvalidInputError, match="column 'churned' is not one the model"):
        sig.check(churn_frame().assign(churned=1))
    out = sig.check(churn_frame().assign(churned=1), allow_extra=True)
    assert "churned" not in out.columns


def test_every_problem_is_reported_at_once() -> None:
    sig = infer_signature(churn_frame())
    bad = churn_frame().drop(columns="spend").assign(active=["y", "n", "y"], extra=0)
    with pytest.raises(InvalidInputError) as info:
        sig.check(bad)
    problems = [(p["column"], p["problem"]) for p in info.value.details["problems"]]
    assert problems == [("spend", "missing"), ("active", "dtype"), ("extra", "extra")]
    assert info.value.message.startswith("3 input columns do not match the model")


def test_lossless_casts_are_applied() -> None:
    sig = infer_signature(churn_frame())
    request = churn_frame().assign(
        spend=[9, 20, 31],  # JSON numbers without a fraction
        tenure=np.array([1, 5, 12], dtype="int16"),
        region=["us", "eu", "mars"],  # strings, as JSON carries categories
        since=["2024-01-01", "2024-02-01T12:00:00", "2024-03-01"],
    )
    out = sig.check(request)
    assert [str(t) for t in out.dtypes] == [
        "int64",
        "float64",
        "bool",
        "str",
        "category",
        "datetime64[ns]",
    ]
    # Codes follow the training categories; an unseen value is missing, not a new code.
    assert out["region"].cat.codes.tolist() == [1, 0, -1]
    assert out["since"][1] == pd.Timestamp("2024-02-01T12:00:00")


def test_unsafe_casts_are_refused() -> None:
    sig = infer_signature(churn_frame())
    with pytest.raises(InvalidInputError, match="'tenure' is float64, the model expects int64"):
        sig.check(churn_frame().assign(tenure=[1.0, 5.5, 12.0]))
    with pytest.raises(InvalidInputError, match="'tenure' has a missing value"):
        sig.check(churn_frame().assign(tenure=pd.array([1, None, 3], dtype="Int64")))
    with pytest.raises(InvalidInputError, match="'since' has values that are not ISO 8601"):
        sig.check(churn_frame().assign(since=["soon", "later", "never"]))
    small = Signature((ColumnSpec("n", "int8"),))
    with pytest.raises(InvalidInputError, match="do not fit in int8"):
        small.check(pd.DataFrame({"n": [1, 300]}))


def test_columns_without_nulls_in_training_refuse_them() -> None:
    sig = infer_signature(pd.DataFrame({"x": [1.0, 2.0], "y": [1.0, None]}))
    assert [c.nullable for c in sig.inputs] == [False, True]
    with pytest.raises(InvalidInputError, match=r"'x' has a missing value \(first at row 1\)"):
        sig.check(pd.DataFrame({"x": [1.0, None], "y": [None, None]}))
    assert Signature.from_dict(sig.to_dict()) == sig


def test_a_nullable_column_null_in_every_row_is_all_missing_in_its_dtype() -> None:
    """JSON nulls in every row read as an object column; a nullable float, category or
    datetime column takes them as all missing (it used to be refused as the wrong type)."""
    train = pd.DataFrame(
        {
            "a": [1.0, None, 2.0],
            "c": pd.Categorical(["x", "y", None]),
            "t": pd.to_datetime(["2024-01-01", None, "2024-01-02"]),
        }
    )
    sig = infer_signature(train)
    out = sig.check(pd.DataFrame({"a": [None, None], "c": [None, None], "t": [None, None]}))
    assert out.dtypes.astype(str).to_dict() == {
        "a": "float64",
        "c": "category",
        "t": "datetime64[us]",
    }
    assert out.isna().all().all()
    assert list(out["c"].cat.categories) == ["x", "y"]
    with pytest.raises(InvalidInputError, match="'i' has a missing value"):
        infer_signature(pd.DataFrame({"i": [1, 2]})).check(pd.DataFrame({"i": [None, None]}))


def test_object_columns_accept_anything() -> None:
    sig = Signature((ColumnSpec("blob", "object"),))
    df = pd.DataFrame({"blob": [{"a": 1}, [2]]})
    assert sig.check(df) is df


def test_check_needs_a_dataframe() -> None:
    with pytest.raises(InvalidInputError, match="expected a pandas DataFrame"):
        infer_signature(churn_frame()).check(np.zeros((3, 6)))  # type: ignore[arg-type]


# property: any frame's signature survives JSON and accepts the frame -----------------

T = TypeVar("T")
_KINDS = ("int64", "int32", "float64", "float32", "bool", "string", "category", "datetime")


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(0, 6))
    names = draw(st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=5, unique=True))
    data: dict[str, Any] = {}

    def rows(elements: st.SearchStrategy[T]) -> list[T]:
        return draw(st.lists(elements, min_size=n, max_size=n))

    for name in names:
        kind = draw(st.sampled_from(_KINDS))
        if kind.startswith("int"):
            data[name] = pd.Series(rows(st.integers(-999, 999)), dtype=kind)
        elif kind.startswith("float"):
            floats = st.floats(allow_infinity=False, width=32)
            data[name] = pd.Series(rows(floats), dtype=kind)
        elif kind == "bool":
            data[name] = pd.Series(rows(st.booleans()), dtype=bool)
        elif kind == "string":
            data[name] = pd.Series(rows(st.text(max_size=4)), dtype="str")
        elif kind == "category":
            levels = st.one_of(st.sampled_from(["lo", "mid", "hi"]), st.integers(0, 3))
            values = rows(levels)
            data[name] = pd.Categorical([str(v) for v in values])
        else:
            seconds = rows(st.integers(0, 2_000_000_000))
            data[name] = pd.to_datetime(pd.Series(seconds, dtype="int64"), unit="s")
    return pd.DataFrame(data, index=range(n))


labels = st.one_of(
    st.none(),
    st.just("int"),
    st.just("float"),
    st.just("str"),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=frames(), target=labels)
def test_signature_round_trips_and_accepts_its_frame(df: pd.DataFrame, target: str | None) -> None:
    n = len(df)
    y = {
        None: None,
        "int": np.arange(n) % 3,
        "float": np.linspace(0, 1, n),
        "str": np.array(["a", "b"] * n)[:n],
    }[target]
    sig = infer_signature(df, y=y)
    assert roundtrip(sig) == sig
    assert [c.name for c in sig.inputs] == list(df.columns)
    assert (sig.output is None) == (y is None)
    pd.testing.assert_frame_equal(sig.check(df), df)
