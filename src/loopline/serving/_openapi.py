"""The served OpenAPI 3.1 document: every route of `create_app`, every content type and
payload form the server accepts, request and response schemas typed from the signature
(the schemas themselves are in `_openapi_schemas`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from loopline._version import __version__
from loopline.models import OutputSpec, Signature
from loopline.serving._mlflow import CSV, IGNORED_COUNT_HEADER, IGNORED_HEADER, JSON, PARQUET
from loopline.serving._oip import HEADER_LENGTH
from loopline.serving._openapi_oip import oip_example, oip_metadata, oip_request, oip_response
from loopline.serving._openapi_schemas import (
    Schema,
    csv_example,
    mlflow_examples,
    mlflow_request,
    predictions_schema,
)

OPENAPI_VERSION = "3.1.0"
PARQUET_TYPES = (PARQUET,)  # MLflow 3 reads this one only (not application/x-parquet)
_BINARY: Schema = {"type": "string", "format": "binary"}
_TEXT: Schema = {"type": "string"}


def _json(schema: Schema, **extra: Any) -> dict[str, Any]:
    return {"application/json": {"schema": schema, **extra}}


def _mlflow_error(description: str) -> dict[str, Any]:
    """MLflow's error body on `/invocations`, with Loopline's hint and details added."""
    schema = {
        "type": "object",
        "required": ["error_code", "message"],
        "properties": {
            "error_code": {"enum": ["BAD_REQUEST", "INTERNAL_ERROR", "TEMPORARILY_UNAVAILABLE"]},
            "message": {"type": "string"},
            "code": {"type": "string", "description": "Loopline's own error code"},
            "hint": {"type": "string"},
            "details": {"type": "object"},
        },
    }
    return {"description": description, "content": _json(schema)}


def _oip_error(description: str) -> dict[str, Any]:
    """The Open Inference Protocol's error body: `{"error": "<message>"}`."""
    schema = {"type": "object", "required": ["error"], "properties": {"error": _TEXT}}
    return {"description": description, "content": _json(schema)}


def _header(description: str) -> dict[str, Any]:
    return {"description": description, "schema": _TEXT}


_SCORED_HEADERS = {
    "x-request-id": _header("the request's id (the X-Request-Id sent, else a new one)"),
    "x-loopline-model-version": _header("the model version that answered"),
    "x-loopline-arm": _header("the rollout arm that answered (stable, canary, ...)"),
}


def _invocations(signature: Signature | None) -> dict[str, Any]:
    examples = mlflow_examples(signature)
    content: dict[str, Any] = {
        JSON: {"schema": mlflow_request(signature), "examples": examples},
        CSV: {"schema": _TEXT, "example": csv_example(signature)},
    }
    if not examples:
        del content[JSON]["examples"], content[CSV]["example"]
    for media_type in PARQUET_TYPES:
        content[media_type] = {"schema": _BINARY}
    output = signature.output if signature is not None else None
    ok = {
        "description": "Predictions (MLflow's shape); classifiers add per-class probabilities",
        "headers": {
            **_SCORED_HEADERS,
            IGNORED_HEADER: _header(
                "the columns the model does not read, which were ignored "
                "(percent-encoded names, comma-separated)"
            ),
            IGNORED_COUNT_HEADER: _header("how many columns were ignored"),
        },
        "content": _json(predictions_schema(output)),
    }
    return {
        "post": {
            "operationId": "invocations",
            "summary": "Score rows (MLflow scoring protocol)",
            "description": "JSON in any of MLflow's forms (dataframe_split, dataframe_records, "
            "instances, inputs; optional params), CSV with a header row, or a Parquet file. "
            "Columns the model does not read are ignored.",
            "requestBody": {"required": True, "content": content},
            "responses": {
                "200": ok,
                "400": _mlflow_error(
                    "The rows do not fit the model's signature, or the body cannot be read"
                ),
                "413": _mlflow_error("Over the body size, row or column limit"),
                "415": _mlflow_error("Content type not accepted"),
                "500": _mlflow_error("The model failed"),
                "503": _mlflow_error("Saturated (micro-batching queue); retry"),
            },
        }
    }


def _get(summary: str, ok: dict[str, Any], **errors: dict[str, Any]) -> dict[str, Any]:
    return {"get": {"summary": summary, "responses": {"200": ok, **errors}}}


def _health() -> dict[str, Any]:
    schema = {
        "type": "object",
        "required": ["status", "model", "version"],
        "properties": {
            "status": {"const": "ok"},
            "model": _TEXT,
            "version": {"type": "integer"},
        },
    }
    return {"description": "Serving (open without a token)", "content": _json(schema)}


def _name_param(model: str) -> dict[str, Any]:
    return {
        "name": "name",
        "in": "path",
        "required": True,
        "description": "the served model; any other name is 404",
        "schema": {"type": "string", "enum": [model]},
    }


def _version_param(versions: Sequence[str]) -> dict[str, Any]:
    param: dict[str, Any] = {
        "name": "version",
        "in": "path",
        "required": True,
        "description": "a version this server serves (GET /v2/models/{name} lists them); "
        "any other is 404",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
    if versions:
        param["example"] = versions[0]
    return param


def _v2_paths(model: str, signature: Signature | None, versions: Sequence[str]) -> dict[str, Any]:
    """The Open Inference Protocol v2 routes, JSON and binary tensor data."""
    name, version = _name_param(model), _version_param(versions)
    unknown = _oip_error("Unknown model or version")
    infer = _infer_operation(signature, unknown)
    ready_body = {
        "type": "object",
        "required": ["name", "version", "ready"],
        "properties": {"name": _TEXT, "version": _TEXT, "ready": {"type": "boolean"}},
    }
    ready = {"description": "Ready", "content": _json(ready_body)}
    meta = {"description": "Inputs and outputs in OIP datatypes", "content": _json(oip_metadata())}
    server = {
        "type": "object",
        "required": ["name", "version", "extensions"],
        "properties": {
            "name": _TEXT,
            "version": _TEXT,
            "extensions": {"type": "array", "items": _TEXT},
        },
    }
    base = "/v2/models/{name}"
    pinned = "/v2/models/{name}/versions/{version}"
    return {
        "/v2": _get("Server metadata", {"description": "Server", "content": _json(server)}),
        "/v2/health/live": _get("Liveness", _health()),
        "/v2/health/ready": _get("Readiness", _health()),
        base: {"parameters": [name], **_get("Model metadata", meta, **{"404": unknown})},
        f"{base}/ready": {"parameters": [name], **_get("Model ready", ready, **{"404": unknown})},
        f"{base}/infer": {"parameters": [name], "post": {"operationId": "infer", **infer}},
        pinned: {
            "parameters": [name, version],
            **_get("Version metadata", meta, **{"404": unknown}),
        },
        f"{pinned}/ready": {
            "parameters": [name, version],
            **_get("Version ready", ready, **{"404": unknown}),
        },
        f"{pinned}/infer": {
            "parameters": [name, version],
            "post": {"operationId": "infer_version", **infer},
        },
    }


def _infer_operation(signature: Signature | None, unknown: dict[str, Any]) -> dict[str, Any]:
    """OIP inference (without its operationId, which differs by route): JSON tensors or
    binary tensor data in, predictions out; `unknown` is the 404 of an unknown model."""
    length = {
        "name": HEADER_LENGTH,
        "in": "header",
        "required": False,
        "description": "binary tensor data: the byte length of the JSON header that starts "
        "the body; the tensors' bytes follow it",
        "schema": {"type": "integer", "minimum": 0},
    }
    json_body: dict[str, Any] = {"schema": oip_request(signature)}
    example = oip_example(signature)
    if example is not None:
        json_body["example"] = example
    return {
        "summary": "Score tensors (Open Inference Protocol v2)",
        "description": "JSON tensors, or with the binary tensor data extension a JSON "
        "header of Inference-Header-Content-Length bytes followed by the tensors' raw bytes "
        "(application/octet-stream).",
        "parameters": [length],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": json_body,
                "application/octet-stream": {"schema": _BINARY},
            },
        },
        "responses": {
            "200": _infer_ok(signature.output if signature is not None else None),
            "400": _oip_error("The tensors cannot be read"),
            "404": unknown,
            "413": _oip_error("Over the body size, row or column limit"),
            "422": _oip_error("The tensors do not fit the model's signature"),
            "500": _oip_error("The model failed"),
            "503": _oip_error("Saturated (micro-batching queue); retry"),
        },
    }


def _infer_ok(output: OutputSpec | None) -> dict[str, Any]:
    return {
        "description": "predict (and predict_proba for classifiers); binary outputs "
        "come as application/octet-stream after a JSON header",
        "headers": {
            **_SCORED_HEADERS,
            HEADER_LENGTH: {
                "description": "with binary outputs: the JSON header's length",
                "schema": {"type": "integer"},
            },
        },
        "content": {
            "application/json": {"schema": oip_response(output)},
            "application/octet-stream": {"schema": _BINARY},
        },
    }


def _metrics() -> dict[str, Any]:
    ok = {
        "description": "Prometheus text format 0.0.4, or OpenMetrics 1.0 when the Accept "
        "header asks for application/openmetrics-text",
        "content": {
            "text/plain": {"schema": _TEXT},
            "application/openmetrics-text": {"schema": _TEXT},
        },
    }
    return _get("Serving metrics", ok)


def openapi_document(
    model: str,
    signature: Signature | None,
    *,
    versions: Sequence[str] = (),
    auth: bool = False,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the scoring app serving `model`; `versions` (the ones
    served) give the version parameter its example, `auth` adds the bearer-token scheme."""
    version_text = {
        "description": "Loopline's version as bare text, which MLflow's "
        "ScoringServerClient.get_version() returns as is",
        "content": {"text/plain": {"schema": _TEXT}},
    }
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": f"Loopline serving: {model}", "version": __version__},
        "paths": {
            "/invocations": _invocations(signature),
            "/ping": _get("Health (MLflow's name)", _health()),
            "/health": _get("Health", _health()),
            "/version": _get("Server version (MLflow's /version)", version_text),
            **_v2_paths(model, signature, versions),
            "/metrics": _metrics(),
            "/openapi.json": _get(
                "This document",
                {"description": "OpenAPI 3.1", "content": _json({"type": "object"})},
            ),
        },
    }
    if auth:
        _add_auth(document)
    return document


_OPEN = ("/ping", "/health", "/v2/health/live", "/v2/health/ready")


def _add_auth(document: dict[str, Any]) -> None:
    """Every route but the health checks needs `Authorization: Bearer <token>`."""
    document["components"] = {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}}
    document["security"] = [{"bearer": []}]
    refused = {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "object"}},
    }
    for path, item in document["paths"].items():
        for method in ("get", "post"):
            operation = item.get(method)
            if operation is None:
                continue
            if path in _OPEN:
                operation["security"] = []
            else:
                operation["responses"]["401"] = {
                    "description": "No bearer token, or one this server does not accept",
                    "content": _json(refused),
                }


__all__ = ["OPENAPI_VERSION", "PARQUET_TYPES", "openapi_document"]
