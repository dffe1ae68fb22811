"""The scoring server's OpenAPI document is complete and true: it is valid OpenAPI, lists
every route the app has, every payload it documents is scored, every payload the server
scores validates against it, and nulls are refused by both where the signature says so.
schemathesis then throws what the document allows at a real server: never a 5xx."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.routing import Route as StarletteRoute

import loopline as ll
from loopline.serving import create_app
from loopline.serving._openapi import PARQUET_TYPES, openapi_document
from tests.serving.conftest import LiveServer

NAME = "mixed"


def _frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    spend = rng.normal(size=n)
    spend[::7] = np.nan  # the one nullable column
    return pd.DataFrame(
        {
            "spend": spend,
            "tenure": rng.normal(size=n),
            "visits": rng.integers(0, 50, n).astype("int64"),
            "flag": rng.random(n) > 0.5,
            "plan": pd.Categorical(rng.choice(["basic", "plus", "pro"], n)),
        }
    )


@pytest.fixture
def mixed(live_server: Callable[..., LiveServer]) -> LiveServer:
    """A LightGBM classifier over float, nullable float, int, bool and category columns."""
    X = _frame(300)
    y = pd.Series(((X["tenure"] + X["flag"]) > 0.5).astype("int64"), name="churned")
    model = lgb.LGBMClassifier(n_estimators=5, num_leaves=4, n_jobs=1, verbose=-1).fit(X, y)
    with ll.start_run(experiment=NAME) as run:
        info = run.log_model(model, signature=ll.infer_signature(X, y))
    version = ll.register_model(info, NAME)
    ll.promote(NAME, version.version, "production")
    return live_server(f"models:/{NAME}@production", capture=False)


def _doc(server: LiveServer) -> dict[str, Any]:
    r = server.client.get("/openapi.json")
    assert r.status_code == 200
    doc: dict[str, Any] = r.json()
    return doc


def _request_schema(doc: dict[str, Any], path: str, media: str = "application/json") -> Any:
    return doc["paths"][path]["post"]["requestBody"]["content"][media]["schema"]


def _valid(schema: dict[str, Any], instance: Any) -> bool:
    return bool(Draft202012Validator(schema).is_valid(instance))


# the document itself ----------------------------------------------------------------------


def test_the_document_is_valid_openapi_for_every_kind_of_signature(mixed: LiveServer) -> None:
    doc = _doc(mixed)
    validate(doc)
    assert doc["openapi"].startswith("3.1")
    for schema in (
        _request_schema(doc, "/invocations"),
        _request_schema(doc, "/v2/models/{name}/infer"),
    ):
        Draft202012Validator.check_schema(schema)
    signature = mixed.service.served().model.signature
    validate(openapi_document("bare", None))  # a model logged without a signature
    validate(openapi_document(NAME, signature, versions=["1", "2"], auth=True))
    columns = {
        c: s["type"]
        for c, s in _request_schema(doc, "/invocations")["oneOf"][1]["properties"][
            "dataframe_records"
        ]["items"]["properties"].items()
    }
    # nullable only where the signature says so; typed from the dtypes
    assert columns == {
        "spend": ["number", "null"],
        "tenure": "number",
        "visits": "integer",
        "flag": "boolean",
        "plan": "string",
    }


def test_the_document_lists_every_route_and_method_of_the_app(mixed: LiveServer) -> None:
    doc = _doc(mixed)
    app = create_app(mixed.service)
    served = {
        (route.path, method.lower())
        for route in app.routes
        if isinstance(route, StarletteRoute)
        for method in route.methods or ()
        if method != "HEAD"
    }
    documented = {
        (path, m) for path, item in doc["paths"].items() for m in item if m != "parameters"
    }
    assert documented == served


def test_invocations_lists_every_content_type_the_server_accepts(mixed: LiveServer) -> None:
    content = _doc(mixed)["paths"]["/invocations"]["post"]["requestBody"]["content"]
    assert set(content) == {"application/json", "text/csv", *PARQUET_TYPES}


# every documented payload is scored ------------------------------------------------------


def test_every_json_and_csv_example_is_scored(mixed: LiveServer) -> None:
    content = _doc(mixed)["paths"]["/invocations"]["post"]["requestBody"]["content"]
    examples = content["application/json"]["examples"]
    assert {"dataframe_split", "dataframe_records", "instances", "inputs", "params"} <= set(
        examples
    )
    for name, example in examples.items():
        assert _valid(content["application/json"]["schema"], example["value"]), name
        r = mixed.client.post("/invocations", json=example["value"])
        assert r.status_code == 200, (name, r.text)
        assert _valid(_ok_schema(_doc(mixed), "/invocations"), r.json())
    r = mixed.client.post(
        "/invocations", content=content["text/csv"]["example"], headers={"content-type": "text/csv"}
    )
    assert r.status_code == 200, r.text


def _ok_schema(doc: dict[str, Any], path: str, method: str = "post") -> Any:
    return doc["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]


@pytest.mark.parametrize("media_type", PARQUET_TYPES)
def test_every_parquet_content_type_is_scored(mixed: LiveServer, media_type: str) -> None:
    body = io.BytesIO()
    _frame(3, seed=2).to_parquet(body)
    r = mixed.client.post(
        "/invocations", content=body.getvalue(), headers={"content-type": media_type}
    )
    assert r.status_code == 200, r.text
    assert len(r.json()["predictions"]) == 3


def test_the_oip_example_is_scored_as_json_and_as_binary_tensors(mixed: LiveServer) -> None:
    import tritonclient.http as triton

    doc = _doc(mixed)
    version = str(mixed.service.served().version.version)
    example = doc["paths"]["/v2/models/{name}/infer"]["post"]["requestBody"]["content"][
        "application/json"
    ]["example"]
    assert _valid(_request_schema(doc, "/v2/models/{name}/infer"), example)
    for path in (f"/v2/models/{NAME}/infer", f"/v2/models/{NAME}/versions/{version}/infer"):
        r = mixed.client.post(path, json=example)
        assert r.status_code == 200, r.text
        assert _valid(_ok_schema(doc, "/v2/models/{name}/infer"), r.json())
    # the same tensors as binary tensor data (application/octet-stream)
    inputs = []
    numpy = {"FP64": np.float64, "INT64": np.int64, "BOOL": np.bool_, "BYTES": np.object_}
    for t in example["inputs"]:
        tensor = triton.InferInput(t["name"], t["shape"], t["datatype"])
        tensor.set_data_from_numpy(np.array(t["data"], dtype=numpy[t["datatype"]]), True)
        inputs.append(tensor)
    body, header = triton.InferenceServerClient.generate_request_body(inputs)
    r = mixed.client.post(
        f"/v2/models/{NAME}/infer",
        content=body,
        headers={
            "content-type": "application/octet-stream",
            "inference-header-content-length": str(header),
        },
    )
    assert r.status_code == 200, r.text


def test_every_get_route_answers_as_documented(mixed: LiveServer) -> None:
    doc = _doc(mixed)
    version = str(mixed.service.served().version.version)
    for path, item in doc["paths"].items():
        if "get" not in item:
            continue
        url = path.replace("{name}", NAME).replace("{version}", version)
        r = mixed.client.get(url)
        assert r.status_code == 200, (path, r.text)
        content = item["get"]["responses"]["200"]["content"]
        media = r.headers["content-type"].split(";")[0]
        assert media in content, (path, media)
        if media == "application/json":
            assert _valid(content[media]["schema"], r.json()), path
    accept = {"accept": "application/openmetrics-text; version=1.0.0"}
    r = mixed.client.get("/metrics", headers=accept)
    assert r.headers["content-type"].startswith("application/openmetrics-text")
    for path in ("/v2/models/nope", f"/v2/models/{NAME}/versions/99/ready"):
        r = mixed.client.get(path)
        assert r.status_code == 404 and isinstance(r.json()["error"], str)


# every payload the server scores is in the schema, and nulls are refused by both ----------


def _accepted_payloads() -> dict[str, Any]:
    row = {"spend": 0.1, "tenure": -1.0, "visits": 3, "flag": True, "plan": "pro"}
    names = list(row)
    values = list(row.values())
    reordered = names[::-1]
    return {
        "split with index": {
            "dataframe_split": {"columns": names, "data": [values, values], "index": [7, 8]}
        },
        "split without columns": {"dataframe_split": {"data": [values]}},
        "split reordered": {
            "dataframe_split": {"columns": reordered, "data": [[row[c] for c in reordered]]}
        },
        "split with an extra column": {
            "dataframe_split": {"columns": [*names, "extra"], "data": [[*values, 1]]}
        },
        "records": {"dataframe_records": [row, {**row, "spend": None}]},
        "records with an extra column": {"dataframe_records": [{**row, "extra": "x"}]},
        "instances rows": {"instances": [values]},
        "instances records": {"instances": [row]},
        "inputs rows": {"inputs": [values, values]},
        "inputs columns": {"inputs": {c: [v] for c, v in row.items()}},
        "inputs scalars": {"inputs": row},
        "params": {"dataframe_records": [row], "params": {"temperature": 0.5}},
        "int as float column": {"dataframe_records": [{**row, "tenure": 2}]},
        "unseen category": {"dataframe_records": [{**row, "plan": "gold"}]},
    }


@pytest.mark.parametrize("case", list(_accepted_payloads()))
def test_payloads_the_server_scores_validate_against_the_schema(
    mixed: LiveServer, case: str
) -> None:
    payload = _accepted_payloads()[case]
    r = mixed.client.post("/invocations", json=payload)
    assert r.status_code == 200, r.text
    assert _valid(_request_schema(_doc(mixed), "/invocations"), payload)


def _refused_payloads() -> dict[str, Any]:
    row = {"spend": 0.1, "tenure": -1.0, "visits": 3, "flag": True, "plan": "pro"}
    out: dict[str, Any] = {}
    for column in ("tenure", "visits", "flag", "plan"):  # trained without missing values
        out[f"null {column} (records)"] = {"dataframe_records": [{**row, column: None}]}
        nulled = [None if c == column else v for c, v in row.items()]
        out[f"null {column} (split)"] = {
            "dataframe_split": {"columns": list(row), "data": [nulled]}
        }
        out[f"null {column} (rows)"] = {"instances": [nulled]}
    out["string in a float column"] = {"dataframe_records": [{**row, "tenure": "x"}]}
    out["float in an int column"] = {"dataframe_records": [{**row, "visits": 1.5}]}
    out["number in a bool column"] = {"inputs": [[0.1, -1.0, 3, 2, "pro"]]}
    out["missing column"] = {"dataframe_records": [{"spend": 0.1}]}
    out["short row"] = {"instances": [[0.1, -1.0]]}
    out["two forms"] = {"instances": [list(row.values())], "inputs": [list(row.values())]}
    return out


@pytest.mark.parametrize("case", list(_refused_payloads()))
def test_payloads_the_schema_refuses_are_refused_by_the_server(
    mixed: LiveServer, case: str
) -> None:
    payload = _refused_payloads()[case]
    assert not _valid(_request_schema(_doc(mixed), "/invocations"), payload)
    r = mixed.client.post("/invocations", json=payload)
    assert 400 <= r.status_code < 500, r.text


def test_nulls_in_oip_tensors_follow_the_signature_too(mixed: LiveServer) -> None:
    doc = _doc(mixed)
    schema = _request_schema(doc, "/v2/models/{name}/infer")
    example = doc["paths"]["/v2/models/{name}/infer"]["post"]["requestBody"]["content"][
        "application/json"
    ]["example"]
    for column, accepted in (("spend", True), ("tenure", False)):
        inputs = [{**t, "data": [None]} if t["name"] == column else t for t in example["inputs"]]
        payload = {"inputs": inputs}
        assert _valid(schema, payload) is accepted, column
        r = mixed.client.post(f"/v2/models/{NAME}/infer", json=payload)
        assert (r.status_code == 200) is accepted, r.text


# schemathesis ------------------------------------------------------------------------------

# Not schemathesis' positive_data_acceptance: CSV and Parquet bodies are opaque to a
# schema, and where a JSON form cannot say a column's type (split with columns in another
# order), the document is looser than the server by necessity.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def binary_bodies() -> Iterator[None]:
    """Teach schemathesis CSV and Parquet bodies: a few real ones and some junk."""
    frame = _frame(4, seed=3)
    parquet = io.BytesIO()
    frame.to_parquet(parquet)
    csv = frame.to_csv(index=False).encode()
    schemathesis.openapi.media_type(
        "text/csv", st.sampled_from([csv, b"spend,tenure\n1,2\n", b"", b"\x00\xff,\n"])
    )
    for media_type in PARQUET_TYPES:
        schemathesis.openapi.media_type(
            media_type, st.sampled_from([parquet.getvalue(), b"PAR1", b"", csv])
        )
    yield
    # Registrations are process-wide: leave other schemathesis tests as they were.
    from schemathesis.core.media_types import MEDIA_TYPE_STRATEGIES
    from schemathesis.transport.asgi import ASGI_TRANSPORT
    from schemathesis.transport.requests import REQUESTS_TRANSPORT
    from schemathesis.transport.wsgi import WSGI_TRANSPORT

    for media_type in ("text/csv", *PARQUET_TYPES):
        MEDIA_TYPE_STRATEGIES.pop(media_type, None)
        for transport in (ASGI_TRANSPORT, REQUESTS_TRANSPORT, WSGI_TRANSPORT):
            transport.unregister_serializer(media_type)


@pytest.mark.parametrize("model", ["churn", NAME])
def test_every_response_to_what_the_openapi_allows_is_documented_and_never_5xx(
    request: pytest.FixtureRequest,
    live_server: Callable[..., LiveServer],
    binary_bodies: None,
    model: str,
) -> None:
    """schemathesis' checks: no 5xx, and every status, content type, header and body the
    server answers is one the document lists for that operation."""
    if model == "churn":
        request.getfixturevalue("production")
        server = live_server(capture=False)
    else:
        server = request.getfixturevalue("mixed")
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/invocations", "/v2/models/{name}/infer", "/metrics"}
    scored: dict[str, int] = {}
    for operation in operations:
        examples = 40 if operation.method.upper() == "POST" else 3

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
        def conforms(case: Case) -> None:
            response = case.call_and_validate(checks=CHECKS)
            assert response.status_code < 500, (case.path, case.body, response.text)
            if response.status_code == 200:
                scored[case.operation.path] = scored.get(case.operation.path, 0) + 1

        conforms()
    # what the document allows is mostly scored, not only refused
    assert scored.get("/invocations", 0) >= 1 and scored.get("/v2/models/{name}/infer", 0) >= 1, (
        scored
    )


def test_a_request_whose_nullable_column_is_all_null_is_scored(mixed: LiveServer) -> None:
    row = {"spend": None, "tenure": -1.0, "visits": 3, "flag": True, "plan": "pro"}
    for payload in ({"dataframe_records": [row]}, {"instances": [list(row.values())]}):
        assert _valid(_request_schema(_doc(mixed), "/invocations"), payload)
        r = mixed.client.post("/invocations", json=payload)
        assert r.status_code == 200, r.text
