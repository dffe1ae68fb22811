from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loopline.errors import InvalidInputError
from loopline.serving import decode_mlflow, decode_oip, encode_mlflow, encode_oip
from loopline.serving._codecs import parse_json

COLUMNS = ["a", "b", "c"]
rows = st.lists(
    st.tuples(st.floats(-1e6, 1e6), st.integers(-1000, 1000), st.sampled_from(["x", "y"])),
    min_size=1,
    max_size=30,
)


def _frame(values: list[tuple[float, int, str]]) -> pd.DataFrame:
    return pd.DataFrame(values, columns=COLUMNS)


@settings(max_examples=80, deadline=None)
@given(rows)
def test_every_mlflow_format_decodes_to_the_same_frame(
    values: list[tuple[float, int, str]],
) -> None:
    df = _frame(values)
    bodies = [
        {"dataframe_split": {"columns": COLUMNS, "data": [list(r) for r in values]}},
        {"dataframe_records": df.to_dict("records")},
        {"instances": df.to_dict("records")},
        {"instances": [list(r) for r in values]},
        {"inputs": {c: df[c].tolist() for c in COLUMNS}},
    ]
    for body in bodies:
        decoded = decode_mlflow(json.loads(json.dumps(body)), COLUMNS)
        pd.testing.assert_frame_equal(decoded[COLUMNS], df, check_dtype=False)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6)), min_size=1, max_size=20))
def test_oip_column_tensors_and_matrix_agree(values: list[tuple[float, float]]) -> None:
    n = len(values)
    per_column = {
        "inputs": [
            {"name": c, "shape": [n], "datatype": "FP64", "data": [r[i] for r in values]}
            for i, c in enumerate("ab")
        ]
    }
    matrix = {
        "inputs": [
            {
                "name": "x",
                "shape": [n, 2],
                "datatype": "FP64",
                "data": [v for r in values for v in r],
            }
        ]
    }
    a, _ = decode_oip(per_column, ["a", "b"])
    b, _ = decode_oip(matrix, ["a", "b"])
    pd.testing.assert_frame_equal(a, b)


def test_responses() -> None:
    labels = np.array([0, 1])
    proba = np.array([[0.7, 0.3], [0.2, 0.8]])
    assert encode_mlflow(labels, proba) == {"predictions": [0, 1], "probabilities": proba.tolist()}
    oip = encode_oip("churn", "3", "r1", labels, proba)
    assert oip["model_version"] == "3" and oip["id"] == "r1"
    assert oip["outputs"][1] == {
        "name": "predict_proba",
        "shape": [2, 2],
        "datatype": "FP64",
        "data": [0.7, 0.3, 0.2, 0.8],
    }


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"inputs": [{"name": "a", "shape": [3], "datatype": "FP64", "data": [1, 2]}]}, "shape"),
        ({"inputs": [{"name": "a", "shape": [1], "datatype": "COMPLEX", "data": [1]}]}, "datatype"),
        ({"inputs": [{"name": "a"}]}, "needs name, shape"),
        ({"outputs": []}, "'inputs' list"),
    ],
)
def test_bad_oip_requests(body: dict[str, object], fragment: str) -> None:
    with pytest.raises(InvalidInputError, match=fragment):
        decode_oip(body, ["a"])


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=60))
def test_any_body_parses_or_fails_cleanly(raw: bytes) -> None:
    try:
        payload = parse_json(raw)
        decode_mlflow(payload, COLUMNS)
    except InvalidInputError:
        pass
