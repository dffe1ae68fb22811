from __future__ import annotations

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
    ("body", "status", "fragment"),
    [
        ({"dataframe_records": [{"a": 1.0}]}, 422, "'b'"),
        ({"dataframe_records": [{"a": 1.0, "b": 2.0, "c": 3}]}, 422, "'c'"),
        ({"dataframe_records": [{"a": "high", "b": 2.0}]}, 422, "'a'"),
        ({"dataframe_split": {"columns": ["a", "b"], "data": [[1.0, 2.0], [1.0]]}}, 422, "row 1"),
        ({"dataframe_records": []}, 422, "no rows"),
        ({"something": []}, 422, "exactly one of"),
        ([1, 2], 422, "JSON object"),
    ],
)
def test_client_mistakes_are_4xx_naming_the_field(
    production: ModelVersion,
    live_server: Callable[..., LiveServer],
    body: object,
    status: int,
    fragment: str,
) -> None:
    r = live_server().client.post("/invocations", json=body)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert fragment in error["message"] and error["code"]


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
        assert 400 <= r.status_code < 500, (raw, r.text)
        assert "error" in r.json()


def test_metrics_and_capture(
    production: ModelVersion, live_server: Callable[..., LiveServer]
) -> None:
    server = live_server()
    for _ in range(5):
        server.client.post("/invocations", json={"dataframe_records": ROWS})
    server.client.post("/invocations", json={"dataframe_records": [{"a": 1.0}]})
    text = server.client.get("/metrics").text
    assert 'loopline_requests_total{arm="champion",code="200",route="mlflow"} 5.0' in text
    assert 'loopline_requests_total{arm="champion",code="422",route="mlflow"} 1.0' in text
    assert 'loopline_model_info{arm="champion",model="churn"' in text
    assert "loopline_capture_dropped_total 0.0" in text
    assert server.service.capture is not None
    deadline = time.monotonic() + 5
    while server.service.capture.written_rows < 15 and time.monotonic() < deadline:
        time.sleep(0.05)
    from loopline.serving import read_capture

    captured = read_capture(server.service.capture.folder, "churn")
    assert len(captured) == 15 and set(captured["version"]) == {1}
    assert captured["probability"].between(0, 1).all()
