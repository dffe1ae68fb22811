from __future__ import annotations

import io
import json
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

import loopline as ll
from loopline.store import ModelVersion
from tests.serving.conftest import LiveServer

ROWS = [{"a": 0.5, "b": -1.0}, {"a": -2.0, "b": 0.3}, {"a": 1.5, "b": 2.0}]


def _expected() -> tuple[list[int], np.ndarray]:
    model = ll.load_model("models:/churn@production")
    frame = pd.DataFrame(ROWS)
    return model.predict(frame).tolist(), model.predict_proba(frame)


@pytest.mark.parametrize(
    "body",
    [
        {"dataframe_split": {"columns": ["a", "b"], "data": [[r["a"], r["b"]] for r in ROWS]}},
        {"dataframe_records": ROWS},
        {"instances": ROWS},
        {"instances": [[r["a"], r["b"]] for r in ROWS]},
        {"inputs": {"a": [r["a"] for r in ROWS], "b": [r["b"] for r in ROWS]}},
    ],
    ids=["split", "records", "instances-records", "instances-rows", "inputs-columns"],
)
def test_mlflow_formats_score_like_the_model(
    production: ModelVersion, live_server: Callable[..., LiveServer], body: dict[str, object]
) -> None:
    server = live_server()
    labels, proba = _expected()
    r = server.client.post("/invocations", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["predictions"] == labels
    np.testing.assert_allclose(r.json()["probabilities"], proba)
    assert r.headers["x-loopline-model-version"] == "1" and r.headers["x-request-id"]


def test_csv_body(production: ModelVersion, live_server: Callable[..., LiveServer]) -> None:
    server = live_server()
    csv = "a,b\n" + "\n".join(f"{r['a']},{r['b']}" for r in ROWS)
    r = server.client.post("/invocations", content=csv, headers={"content-type": "text/csv"})
    assert r.status_code == 200 and r.json()["predictions"] == _expected()[0]


def test_open_inference_protocol_v2(
    production: ModelVersion, live_server: Callable[..., LiveServer]
) -> None:
    server = live_server()
    labels, proba = _expected()
    per_column = {
        "id": "req-1",
        "inputs": [
            {"name": "a", "shape": [3], "datatype": "FP64", "data": [r["a"] for r in ROWS]},
            {"name": "b", "shape": [3], "datatype": "FP64", "data": [r["b"] for r in ROWS]},
        ],
    }
    matrix = {
        "inputs": [
            {
                "name": "x",
                "shape": [3, 2],
                "datatype": "FP32",
                "data": [v for r in ROWS for v in (r["a"], r["b"])],
            }
        ]
    }
    for body in (per_column, matrix):
        r = server.client.post("/v2/models/churn/infer", json=body)
        assert r.status_code == 200, r.text
        out = {o["name"]: o for o in r.json()["outputs"]}
        assert out["predict"]["data"] == labels and out["predict_proba"]["shape"] == [3, 2]
        np.testing.assert_allclose(out["predict_proba"]["data"], proba.ravel(), rtol=1e-6)
    assert server.client.post("/v2/models/churn/infer", json=per_column).json()["id"] == "req-1"
    assert server.client.get("/v2/health/live").status_code == 200
    assert server.client.get("/v2/health/ready").status_code == 200
    meta = server.client.get("/v2/models/churn").json()
    assert meta["versions"] == ["1"] and [i["name"] for i in meta["inputs"]] == ["a", "b"]
    missing = server.client.post("/v2/models/other/infer", json=per_column)
    assert missing.status_code == 404 and "churn" in missing.json()["error"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"dataframe_records": [{"a": 1.0}]}, "'b'"),
        ({"dataframe_records": [{"a": "high", "b": 2.0}]}, "'a'"),
        ({"dataframe_split": {"columns": ["a", "b"], "data": [[1.0, 2.0], [1.0]]}}, "row 1"),
        ({"dataframe_records": []}, "no rows"),
        ({"something": []}, "exactly one of"),
        ([1, 2], "JSON object"),
    ],
)
def test_client_mistakes_are_400_in_mlflow_shape_naming_the_field(
    production: ModelVersion,
    live_server: Callable[..., LiveServer],
    body: object,
    fragment: str,
) -> None:
    """MLflow clients expect 400 `{"error_code": "BAD_REQUEST", "message": ...}`; our code,
    hint and details ride along as further fields."""
    r = live_server().client.post("/invocations", json=body)
    assert r.status_code == 400, r.text
    error = r.json()
    assert error["error_code"] == "BAD_REQUEST" and fragment in error["message"], error
    assert error["code"] == "invalid_input" and error["hint"] in error["message"], error
    assert isinstance(error["details"], dict)


def test_non_finite_and_broken_json_are_refused(
    production: ModelVersion, live_server: Callable[..., LiveServer]
) -> None:
    server = live_server()
    for raw in (
        '{"dataframe_records": [{"a": NaN, "b": 1}]}',
        '{"dataframe_records": [',
        '{"dataframe_records": [{"a": 1e999, "b": 1}]}',
    ):
        r = server.client.post(
            "/invocations", content=raw, headers={"content-type": "application/json"}
        )
        assert r.status_code == 400, (raw, r.text)
        assert r.json()["error_code"] == "BAD_REQUEST"


def test_metrics_and_capture(
    production: ModelVersion, live_server: Callable[..., LiveServer]
) -> None:
    server = live_server()
    for _ in range(5):
        server.client.post("/invocations", json={"dataframe_records": ROWS})
    server.client.post("/invocations", json={"dataframe_records": [{"a": 1.0}]})
    text = server.client.get("/metrics").text
    mlflow = 'protocol="mlflow",route="/invocations"'
    assert f'loopline_requests_total{{arm="champion",code="200",{mlflow}}} 5.0' in text
    assert f'loopline_requests_total{{arm="champion",code="400",{mlflow}}} 1.0' in text
    assert 'loopline_model_info{arm="champion",model="churn"' in text
    assert "loopline_capture_dropped_total 0.0" in text
    # An OIP request pinned to a version is counted under the route it came in on.
    v2 = {"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": [0.5]},
                     {"name": "b", "shape": [1], "datatype": "FP64", "data": [1.5]}]}  # fmt: skip
    assert server.client.post("/v2/models/churn/versions/1/infer", json=v2).status_code == 200
    assert server.client.post("/v2/models/churn/infer", json={"inputs": []}).status_code == 422
    text = server.client.get("/metrics").text
    pinned = 'protocol="oip",route="/v2/models/{name}/versions/{version}/infer"'
    plain = 'protocol="oip",route="/v2/models/{name}/infer"'
    assert f'loopline_requests_total{{arm="champion",code="200",{pinned}}} 1.0' in text
    assert f'loopline_requests_total{{arm="champion",code="422",{plain}}} 1.0' in text
    assert server.service.capture is not None
    deadline = time.monotonic() + 5
    while server.service.capture.written_rows < 16 and time.monotonic() < deadline:
        time.sleep(0.05)
    from loopline.serving import read_capture

    captured = read_capture(server.service.capture.folder, "churn")
    assert len(captured) == 16 and set(captured["version"]) == {1}  # 15 MLflow rows, 1 OIP
    assert captured["probability"].between(0, 1).all()


# --- MLflow scoring-server parity (issue 17) ------------------------------------------------


def _parquet(frame: pd.DataFrame, compression: str = "snappy") -> bytes:
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False, compression=compression)
    return buf.getvalue()


def test_extra_columns_are_ignored_and_named_in_a_header(
    production: ModelVersion, live_server: Callable[..., LiveServer]
) -> None:
    """As `mlflow models serve`: columns the signature does not list are ignored; the
    response names them (percent-encoded) and they never reach capture."""
    server = live_server()
    labels = _expected()[0]
    extra = [{**r, "zzz_extra": 1, "x,y": "é"} for r in ROWS]
    frame = pd.DataFrame(extra)
    cols = list(frame.columns)
    answers = [
        server.client.post("/invocations", json={"dataframe_records": extra}),
        server.client.post(
            "/invocations",
            json={"dataframe_split": {"columns": cols, "data": frame.values.tolist()}},
        ),
        server.client.post(
            "/invocations",
            content=frame.to_csv(index=False),
            headers={"content-type": "text/csv"},
        ),
        server.client.post(
            "/invocations",
            content=_parquet(frame),
            headers={"content-type": "application/vnd.apache.parquet"},
        ),
    ]
    for r in answers:
        assert r.status_code == 200, r.text
        assert r.json()["predictions"] == labels
        assert r.headers["x-loopline-ignored-columns"] == "zzz_extra,x%2Cy", r.headers
        assert r.headers["x-loopline-ignored-columns-count"] == "2"
    # a body large enough to be read on a worker thread still gets its header
    many = {"dataframe_records": [{"a": 0.5, "b": 1.0, "zzz_extra": "p" * 40}] * 5000}
    r = server.client.post("/invocations", json=many)
    assert r.status_code == 200 and r.headers["x-loopline-ignored-columns"] == "zzz_extra"
    plain = server.client.post("/invocations", json={"dataframe_records": ROWS})
    assert "x-loopline-ignored-columns" not in plain.headers
    missing = server.client.post("/invocations", json={"dataframe_records": [{"a": 1, "c": 2}]})
    assert missing.status_code == 400 and "'b'" in missing.json()["message"], missing.text
    assert server.service.capture is not None
    deadline = time.monotonic() + 5
    while server.service.capture.written_rows < 5015 and time.monotonic() < deadline:
        time.sleep(0.05)
    from loopline.serving import read_capture

    captured = read_capture(server.service.capture.folder, "churn")
    assert len(captured) == 5015
    assert "zzz_extra" not in captured.to_json(), list(captured.columns)


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        (None, 415),
        ("text/plain", 415),
        ("application/x-www-form-urlencoded", 415),
        ("application/json; charset=latin-1", 415),
        ("application/json; format=pandas-split", 415),  # MLflow 1's protocol: refused
        ("application/json", 200),
        ('Application/JSON; charset="UTF-8"', 200),
    ],
)
def test_content_types_are_checked(
    production: ModelVersion,
    live_server: Callable[..., LiveServer],
    content_type: str | None,
    status: int,
) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    body = json.dumps({"dataframe_records": ROWS}).encode()
    r = live_server(capture=False).client.post("/invocations", content=body, headers=headers)
    assert r.status_code == status, r.text
    if status == 415:
        error = r.json()
        assert error["error_code"] == "BAD_REQUEST" and error["code"] == "unsupported_media_type"
        assert error["details"]["accepted"] == [
            "application/json",
            "text/csv",
            "application/vnd.apache.parquet",
        ]
        assert "text/csv" in error["message"] or "charset" in error["message"], error


def test_parquet_bodies_are_scored_and_bounded(
    production: ModelVersion,
    live_server: Callable[..., LiveServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOOPLINE_SERVE_MAX_ROWS", "5")
    server = live_server(capture=False)
    parquet = {"content-type": "application/vnd.apache.parquet"}
    labels, proba = _expected()
    r = server.client.post("/invocations", content=_parquet(pd.DataFrame(ROWS)), headers=parquet)
    assert r.status_code == 200, r.text
    assert r.json()["predictions"] == labels
    np.testing.assert_allclose(r.json()["probabilities"], proba)
    six = pd.DataFrame([ROWS[0]] * 6)
    r = server.client.post("/invocations", content=_parquet(six), headers=parquet)
    assert r.status_code == 413 and r.json()["details"]["max_rows"] == 5, r.text
    assert r.json()["error_code"] == "BAD_REQUEST" and "6 rows" in r.json()["message"]
    r = server.client.post("/invocations", content=b"PAR1 not parquet", headers=parquet)
    assert r.status_code == 400 and "Parquet" in r.json()["message"], r.text
    # a small body that unpacks past the body limit is refused from its footer
    server.service.reader.max_body_bytes = 100_000
    bomb = pd.DataFrame({"a": [0.5], "b": [1.0], "note": ["x" * 1_000_000]})
    body = _parquet(bomb, compression="zstd")
    assert len(body) < 100_000
    r = server.client.post("/invocations", content=body, headers=parquet)
    assert r.status_code == 413 and "unpacks" in r.json()["message"], r.text


def test_version_ping_and_too_large(
    production: ModelVersion,
    live_server: Callable[..., LiveServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`ScoringServerClient.get_version()` returns /version's text; 413 stays 413 with
    MLflow's error_code."""
    monkeypatch.setenv("LOOPLINE_SERVE_MAX_ROWS", "2")
    server = live_server(capture=False)
    version = server.client.get("/version")
    assert version.status_code == 200 and version.text == ll.__version__
    assert server.client.get("/ping").status_code == 200
    r = server.client.post("/invocations", json={"dataframe_records": ROWS})
    assert r.status_code == 413, r.text
    assert r.json()["error_code"] == "BAD_REQUEST" and r.json()["code"] == "payload_too_large"


def test_a_model_failure_is_500_in_mlflow_shape(
    production: ModelVersion,
    live_server: Callable[..., LiveServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """MLflow answers 400 when the model raises; we answer 500 (the model's fault, counted
    for the arm a canary is judged on) in MLflow's shape."""
    server = live_server(capture=False)
    model = server.service.router.route("").slot.current.model

    def broken(self: object, frame: object, **options: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(type(model), "score", broken)
    r = server.client.post("/invocations", json={"dataframe_records": ROWS})
    assert r.status_code == 500, r.text
    assert r.json()["error_code"] == "INTERNAL_ERROR" and "RuntimeError" in r.json()["message"]
    assert server.service.arm_stats("champion").window().errors == 1
