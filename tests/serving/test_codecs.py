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


# --- MLflow scoring-server parity (serving/_mlflow.py) --------------------------------------


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/json", "application/json"),
        ("application/json; charset=utf-8", "application/json"),
        ('Application/JSON ; Charset="UTF-8"', "application/json"),
        ("text/csv", "text/csv"),
        ("application/vnd.apache.parquet", "application/vnd.apache.parquet"),
        ("", "no Content-Type"),
        ("text/plain", "'text/plain' is not one"),
        ("application/x-parquet", "'application/x-parquet' is not one"),
        ("application/json; charset=utf-16", "charset 'utf-16'"),
        ("application/json; format=pandas-records", "parameter 'format'"),
    ],
)
def test_media_types_as_mlflow_reads_them(content_type: str, expected: str) -> None:
    from loopline.serving._mlflow import UnsupportedMediaTypeError, media_type

    if expected in ("application/json", "text/csv", "application/vnd.apache.parquet"):
        assert media_type(content_type) == expected
        return
    with pytest.raises(UnsupportedMediaTypeError) as caught:
        media_type(content_type)
    assert caught.value.http_status == 415 and expected in caught.value.message
    assert caught.value.details["accepted"] == [
        "application/json",
        "text/csv",
        "application/vnd.apache.parquet",
    ]


def test_mlflow_error_body_and_codes() -> None:
    from loopline.errors import PayloadTooLargeError
    from loopline.serving._errors import error_response

    exc = InvalidInputError("column 'b' is missing", hint="add it", details={"column": "b"})
    r = error_response(exc, protocol="mlflow")
    assert r.status_code == 400  # MLflow's status where the rest of Loopline says 422
    assert json.loads(r.body) == {
        "error_code": "BAD_REQUEST",
        "message": "column 'b' is missing — add it",
        "code": "invalid_input",
        "hint": "add it",
        "details": {"column": "b"},
    }
    big = error_response(PayloadTooLargeError("too big", hint="less"), protocol="mlflow")
    assert big.status_code == 413 and json.loads(big.body)["error_code"] == "BAD_REQUEST"
    boom = error_response(InvalidInputError("boom", hint="bug"), 500, protocol="mlflow")
    assert boom.status_code == 500 and json.loads(boom.body)["error_code"] == "INTERNAL_ERROR"
    oip = error_response(exc, protocol="oip")  # the OIP body is unchanged
    assert oip.status_code == 422 and json.loads(oip.body) == {"error": exc.one_line()}
    own = error_response(exc)  # every other route: Loopline's own body
    assert json.loads(own.body)["error"]["code"] == "invalid_input"


def test_ignored_columns_header_is_encoded_and_bounded() -> None:
    from loopline.serving._mlflow import RequestNotes

    assert RequestNotes().headers() == {}
    notes = RequestNotes(["c", "x,y", "é", *(f"n{i}" for i in range(60))])
    headers = notes.headers()
    named = headers["x-loopline-ignored-columns"].split(",")
    assert named[:3] == ["c", "x%2Cy", "%C3%A9"] and len(named) == 50
    assert headers["x-loopline-ignored-columns-count"] == "63"
    headers["x-loopline-ignored-columns"].encode("latin-1")  # a valid header value


def test_parquet_footer_bounds_before_reading() -> None:
    import io

    from loopline.serving._mlflow import parquet_footer, read_parquet

    frame = pd.DataFrame({"a": [1.0, 2.0], "note": ["x" * 5000, "y"]})
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False, compression="zstd")
    footer = parquet_footer(buf.getvalue())
    assert (footer.rows, footer.columns) == (2, 2) and footer.unpacked_bytes > 5000
    pd.testing.assert_frame_equal(read_parquet(buf.getvalue()), frame)
    for junk in (b"", b"PAR1", b"PAR1" + b"\0" * 64 + b"PAR1", b"not parquet at all"):
        with pytest.raises(InvalidInputError, match="Parquet body cannot be read"):
            parquet_footer(junk)
