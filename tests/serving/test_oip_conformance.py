"""Open Inference Protocol v2 conformance, driven by the real KServe/Triton client
(`tritonclient[http]`) against a real server on 127.0.0.1: binary and JSON tensors, every
datatype a signature produces, requests built from the model metadata, versioned routes,
404s, output selection and strict tensor conversion."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

tritonclient_http = pytest.importorskip("tritonclient.http")
from tritonclient.utils import InferenceServerException  # noqa: E402

import loopline as ll  # noqa: E402
from loopline.serving import ModelSlot, SplitRouter, load_served  # noqa: E402
from loopline.store import ModelVersion  # noqa: E402
from tests.serving.conftest import LiveServer  # noqa: E402

HEADER = "Inference-Header-Content-Length"
# numpy dtype a client sends for each OIP datatype a signature can produce
NUMPY = {
    "FP64": np.float64,
    "FP32": np.float32,
    "INT64": np.int64,
    "INT32": np.int32,
    "BOOL": np.bool_,
    "BYTES": np.object_,
}


def _frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "f64": rng.normal(size=n),
            "f32": rng.normal(size=n).astype("float32"),
            "i64": rng.integers(0, 50, n).astype("int64"),
            "i32": rng.integers(-5, 5, n).astype("int32"),
            "flag": rng.random(n) > 0.5,
            "plan": pd.Categorical(rng.choice(["basic", "plus", "pro"], n)),
        }
    )


def _register(name: str, labels: str) -> str:
    """A LightGBM model over every column type, with labels that are ints, strings,
    bools or floats (a regressor); promoted to production. Returns its URI."""
    X = _frame(300)
    score = X["f64"] + (X["plan"] == "pro") * 1.5 + X["flag"] * 0.5
    params: dict[str, Any] = {
        "n_estimators": 5,
        "num_leaves": 4,
        "min_child_samples": 5,
        "n_jobs": 1,
        "verbose": -1,
    }
    if labels == "float":
        y = pd.Series(score.to_numpy(), name="y")
        model: Any = lgb.LGBMRegressor(**params).fit(X, y)
    else:
        cls = (score > score.median()).to_numpy()
        values = {"int": cls.astype("int64"), "bool": cls, "str": np.where(cls, "churn", "stay")}
        y = pd.Series(values[labels], name="y")
        model = lgb.LGBMClassifier(**params).fit(X, y)
    with ll.start_run(experiment=name) as run:
        info = run.log_model(model, signature=ll.infer_signature(X, y))
    version = ll.register_model(info, name)
    ll.promote(name, version.version, "production")
    return f"models:/{name}@production"


def _client(server: LiveServer) -> Any:
    return tritonclient_http.InferenceServerClient(server.url.removeprefix("http://"))


def _request_from_metadata(meta: dict[str, Any], frame: pd.DataFrame, binary: bool) -> list[Any]:
    inputs = []
    for spec in meta["inputs"]:
        column = frame[spec["name"]]
        if spec["datatype"] == "BYTES":
            array = np.array([str(v) for v in column], dtype=np.object_)
        else:
            array = column.to_numpy().astype(NUMPY[spec["datatype"]])
        tensor = tritonclient_http.InferInput(spec["name"], [len(frame)], spec["datatype"])
        tensor.set_data_from_numpy(array, binary_data=binary)
        inputs.append(tensor)
    return inputs


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
@pytest.mark.parametrize(
    ("labels", "label_type"),
    [("int", "INT64"), ("str", "BYTES"), ("bool", "BOOL"), ("float", "FP64")],
)
def test_tritonclient_request_built_from_metadata(
    live_server: Callable[..., LiveServer], binary: bool, labels: str, label_type: str
) -> None:
    uri = _register(f"m_{labels}", labels)
    server = live_server(uri)
    client = _client(server)
    name = uri.split("/")[-1].split("@")[0]
    assert client.is_server_live() and client.is_server_ready()
    assert "binary_tensor_data" in client.get_server_metadata()["extensions"]
    meta = client.get_model_metadata(name)
    assert {i["name"]: i["datatype"] for i in meta["inputs"]} == {
        "f64": "FP64",
        "f32": "FP32",
        "i64": "INT64",
        "i32": "INT32",
        "flag": "BOOL",
        "plan": "BYTES",
    }
    declared = {o["name"]: o for o in meta["outputs"]}
    assert declared["predict"]["datatype"] == label_type
    frame = _frame(7, seed=1)
    outputs = None  # tritonclient then asks for every output as binary data
    if not binary:
        outputs = [tritonclient_http.InferRequestedOutput(o, binary_data=False) for o in declared]
    result = client.infer(
        name, _request_from_metadata(meta, frame, binary), outputs=outputs, request_id="r-7"
    )
    response = result.get_response()
    assert response["id"] == "r-7" and response["model_name"] == name
    assert {o["name"] for o in response["outputs"]} == set(declared)
    for out in response["outputs"]:  # responses carry the datatypes the metadata declared
        assert out["datatype"] == declared[out["name"]]["datatype"]
        assert ("binary_data_size" in out.get("parameters", {})) is binary
    model = ll.load_model(uri)
    expected = model.predict(frame)
    got = result.as_numpy("predict")
    if label_type == "BYTES":
        got = np.array([v.decode() if isinstance(v, bytes) else v for v in got])
        np.testing.assert_array_equal(got, expected.astype(str))
    else:
        assert got.dtype == NUMPY[label_type]
        np.testing.assert_array_equal(got, expected.astype(got.dtype))
    if labels != "float":
        proba = result.as_numpy("predict_proba")
        assert proba.dtype == np.float64 and proba.shape == (7, 2)
        np.testing.assert_allclose(proba, model.predict_proba(frame), rtol=1e-12)
    else:
        assert "predict_proba" not in declared


def test_every_numeric_datatype_is_accepted_binary_and_json(
    production: ModelVersion, live_server: Callable[..., LiveServer]
) -> None:
    """Float columns take any float or integer datatype, sent either way."""
    server = live_server()
    client = _client(server)
    a = np.array([1, 2, 3])
    b = np.array([0, -1, 4])
    expected = ll.load_model("models:/churn@production").predict(pd.DataFrame({"a": a, "b": b}))
    for datatype, dtype in [
        ("FP16", np.float16),
        ("FP32", np.float32),
        ("FP64", np.float64),
        ("INT8", np.int8),
        ("INT16", np.int16),
        ("INT32", np.int32),
        ("INT64", np.int64),
        ("UINT8", np.uint8),
        ("UINT16", np.uint16),
        ("UINT32", np.uint32),
        ("UINT64", np.uint64),
    ]:
        for binary in (True, False):
            inputs = []
            for col, values in (("a", a), ("b", b)):
                values = np.abs(values) if datatype.startswith("UINT") else values
                tensor = tritonclient_http.InferInput(col, [3], datatype)
                tensor.set_data_from_numpy(values.astype(dtype), binary_data=binary)
                inputs.append(tensor)
            result = client.infer("churn", inputs)
            assert result.as_numpy("predict").dtype == np.int64, (datatype, binary)
            if not datatype.startswith("UINT"):
                np.testing.assert_array_equal(result.as_numpy("predict"), expected)
    # BF16 travels only as binary: two bytes, the high half of a float32
    bf16 = (np.array([1.0, 2.0, 3.0], dtype=np.float32).view(np.uint32) >> 16).astype("<u2")
    body = json.dumps(
        {
            "inputs": [
                {"name": c, "shape": [3], "datatype": "BF16", "parameters": {"binary_data_size": 6}}
                for c in "ab"
            ]
        }
    ).encode()
    r = server.client.post(
        "/v2/models/churn/infer",
        content=body + bf16.tobytes() * 2,
        headers={HEADER: str(len(body)), "content-type": "application/octet-stream"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["outputs"][0]["datatype"] == "INT64"


def test_versioned_routes_and_unknown_versions(
    train_version: Callable[..., ModelVersion], live_server: Callable[..., LiveServer]
) -> None:
    v1 = train_version()
    ll.promote("churn", v1.version, "production")
    v2 = train_version(corrupt=True)
    server = live_server()
    client = _client(server)
    tensors = [tritonclient_http.InferInput(c, [2], "FP64") for c in "ab"]
    for t in tensors:
        t.set_data_from_numpy(np.array([0.5, -1.0]))
    assert client.is_model_ready("churn", "1")
    assert not client.is_model_ready("churn", "99")
    assert client.get_model_metadata("churn", "1")["versions"] == ["1"]
    assert client.infer("churn", tensors, model_version="1").get_response()["model_version"] == "1"
    with pytest.raises(InferenceServerException) as err:
        client.infer("churn", tensors, model_version="99")
    assert err.value.status() == "404" and "version '99'" in err.value.message()
    with pytest.raises(InferenceServerException) as err:
        client.get_model_metadata("churn", "2")  # registered, but not served here
    assert err.value.status() == "404"
    # a canary serves both versions: each versioned route answers from its own version
    champion = server.service.router.route("").slot
    canary = ModelSlot(f"models:/churn/{v2.version}", load_served(f"models:/churn/{v2.version}"))
    server.service.router = SplitRouter(champion, canary, 50.0, "canary")
    assert client.get_model_metadata("churn")["versions"] == ["1", "2"]
    for version in ("1", "2"):
        assert client.is_model_ready("churn", version)
        for _ in range(5):  # whatever the split would have picked
            r = server.client.post(
                f"/v2/models/churn/versions/{version}/infer",
                json={"inputs": [{"name": c, "shape": [1], "datatype": "FP64", "data": [0.1]}
                                 for c in "ab"]},
            )  # fmt: skip
            assert r.status_code == 200 and r.json()["model_version"] == version
            assert r.headers["x-loopline-model-version"] == version


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v2/models/nope"),
        ("GET", "/v2/models/nope/ready"),
        ("GET", "/v2/models/nope/versions/1"),
        ("GET", "/v2/models/nope/versions/1/ready"),
        ("POST", "/v2/models/nope/infer"),
        ("POST", "/v2/models/nope/versions/1/infer"),
        ("GET", "/v2/models/churn/versions/99"),
        ("GET", "/v2/models/churn/versions/99/ready"),
        ("POST", "/v2/models/churn/versions/99/infer"),
        ("GET", "/v2/models/churn/nothing-here"),
    ],
)
def test_unknown_models_and_versions_are_404_with_a_string_error(
    production: ModelVersion, live_server: Callable[..., LiveServer], method: str, path: str
) -> None:
    server = live_server()
    body = {"inputs": [{"name": c, "shape": [1], "datatype": "FP64", "data": [0.1]} for c in "ab"]}
    r = server.client.request(method, path, json=body if method == "POST" else None)
    assert r.status_code == 404, r.text
    assert isinstance(r.json()["error"], str) and r.json()["error"]
    assert not _client(server).is_model_ready("nope")


def test_outputs_selection(
    production: ModelVersion, live_server: Callable[..., LiveServer]
) -> None:
    server = live_server()
    client = _client(server)
    tensors = [tritonclient_http.InferInput(c, [2], "FP64") for c in "ab"]
    for t in tensors:
        t.set_data_from_numpy(np.array([0.5, -1.0]))
    only = [tritonclient_http.InferRequestedOutput("predict_proba", binary_data=True)]
    response = client.infer("churn", tensors, outputs=only).get_response()
    assert [o["name"] for o in response["outputs"]] == ["predict_proba"]
    mixed = [
        tritonclient_http.InferRequestedOutput("predict", binary_data=False),
        tritonclient_http.InferRequestedOutput("predict_proba", binary_data=True),
    ]
    result = client.infer("churn", tensors, outputs=mixed)
    out = {o["name"]: o for o in result.get_response()["outputs"]}
    assert "data" in out["predict"] and "binary_data_size" in out["predict_proba"]["parameters"]
    assert result.as_numpy("predict_proba").shape == (2, 2)
    with pytest.raises(InferenceServerException) as err:
        client.infer("churn", tensors, outputs=[tritonclient_http.InferRequestedOutput("nope")])
    assert err.value.status() == "422" and "'nope'" in err.value.message()


def _tensor(datatype: str, data: Any, shape: list[int] | None = None) -> dict[str, Any]:
    return {"inputs": [
        {"name": "a", "shape": shape or [2], "datatype": datatype, "data": data},
        {"name": "b", "shape": [2], "datatype": "FP64", "data": [0.0, 1.0]},
    ]}  # fmt: skip


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (_tensor("FP32", ["high", 1.0]), "element 0 is the string 'high', not a number"),
        (_tensor("FP64", ["7", 1.0]), "element 0 is the string '7', not a number"),
        (_tensor("FP32", [[1.0], [2.0, 3.0]], [2, 1]), "ragged"),
        (_tensor("FP64", [1.0, [2.0]]), "element 1 is a nested list"),
        (_tensor("INT64", [2**70, 1]), "outside the range of INT64"),
        (_tensor("INT64", [1.5, 1]), "element 0 is 1.5, not an integer"),
        (_tensor("INT64", ["7", 1]), "the string '7', not a number"),
        (_tensor("UINT8", [-1, 1]), "element 0 is -1, outside the range of UINT8"),
        (_tensor("FP16", [1e6, 1.0]), "outside the range of FP16"),
        (_tensor("BOOL", [1, 0]), "not true or false"),
        (_tensor("BYTES", [1, 2]), "not a string"),
        (_tensor("FP64", [1.0, 2.0, 3.0]), "3 values but shape [2]"),
        (_tensor("FP64", [1.0, 2.0], [1, 2, 1]), "[rows] or [rows, columns]"),
        (_tensor("COMPLEX", [1.0, 2.0]), "unknown datatype"),
        ({"inputs": [{"name": "a", "shape": [2], "datatype": "FP64"}]}, "needs name, shape"),
        ({**_tensor("FP64", [1.0, 2.0]), "outputs": [{"name": "x"}]}, "'x'"),
        ({**_tensor("FP64", [1.0, 2.0]), "id": 5}, "request id must be a string"),
    ],
)
def test_strict_conversion_is_4xx_never_a_model_error(
    production: ModelVersion,
    live_server: Callable[..., LiveServer],
    body: dict[str, Any],
    fragment: str,
) -> None:
    server = live_server()
    r = server.client.post("/v2/models/churn/infer", json=body)
    assert 400 <= r.status_code < 500, r.text
    error = r.json()["error"]
    assert isinstance(error, str) and fragment in error, error
    metrics = server.client.get("/metrics").text
    assert not re.search(r'loopline_requests_total\{[^}]*code="5\d\d"', metrics)
    assert server.service.arm_stats("champion").window().errors == 0


@pytest.mark.parametrize(
    ("header", "tail", "fragment"),
    [
        ("-3", b"", "Inference-Header-Content-Length"),
        ("99999", b"", "Inference-Header-Content-Length"),
        (None, b"\x00" * 8, "not valid JSON"),  # binary without the header
        ("", b"\x00" * 7, "16 bytes"),  # short binary section
        ("", b"\x00" * 40, "8 bytes follow"),  # bytes nobody claims
    ],
)
def test_malformed_binary_requests_are_4xx(
    production: ModelVersion,
    live_server: Callable[..., LiveServer],
    header: str | None,
    tail: bytes,
    fragment: str,
) -> None:
    server = live_server()
    params = {"binary_data_size": 16}
    body = json.dumps(
        {"inputs": [{"name": c, "shape": [2], "datatype": "FP64", "parameters": params}
                    for c in "ab"]}
    ).encode()  # fmt: skip
    headers = {"content-type": "application/octet-stream"}
    if header is not None:
        headers[HEADER] = header or str(len(body))
    r = server.client.post("/v2/models/churn/infer", content=body + tail, headers=headers)
    assert 400 <= r.status_code < 500, r.text
    assert isinstance(r.json()["error"], str) and fragment in r.json()["error"], r.json()
    assert server.service.arm_stats("champion").window().errors == 0


def test_invocations_errors_keep_their_own_shape(
    production: ModelVersion, live_server: Callable[..., LiveServer]
) -> None:
    """Only the v2 routes use the string error body; the MLflow route keeps MLflow's
    `{"error_code", "message"}` body."""
    server = live_server()
    r = server.client.post("/invocations", json={"dataframe_records": [{"a": "x", "b": 1}]})
    assert r.status_code == 400 and r.json()["error_code"] == "BAD_REQUEST"
    assert "error" not in r.json()
    assert server.client.get("/invocations").status_code == 405
    assert server.client.get("/nothing").text == "Not Found"
