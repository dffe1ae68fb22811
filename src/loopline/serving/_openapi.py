"""The served OpenAPI document: request schemas come from the model's signature."""

from __future__ import annotations

from typing import Any

from loopline._version import __version__
from loopline.models import Signature

_JSON_TYPES = {"int64": "integer", "float64": "number", "bool": "boolean", "string": "string"}


def _column_schema(dtype: str, categories: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": _JSON_TYPES.get(dtype, "string"), "nullable": True}
    if categories:
        schema["enum"] = [*categories, None]
    return schema


def _error() -> dict[str, Any]:
    return {
        "description": "The request was refused",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "details": {"type": "object"},
                            },
                        }
                    },
                }
            }
        },
    }


def openapi_document(model: str, signature: Signature | None) -> dict[str, Any]:
    if signature is not None:
        props = {c.name: _column_schema(c.dtype, c.categories) for c in signature.inputs}
        names = list(props)
        row = {"type": "array", "items": {}, "minItems": len(names), "maxItems": len(names)}
        record: dict[str, Any] = {
            "type": "object",
            "properties": props,
            "required": names,
            "additionalProperties": False,
        }
    else:
        names, row, record = [], {"type": "array", "items": {}}, {"type": "object"}
    column_item: dict[str, Any] = {"type": "string", **({"enum": names} if names else {})}
    split = {
        "type": "object",
        "required": ["dataframe_split"],
        "additionalProperties": False,
        "properties": {
            "dataframe_split": {
                "type": "object",
                "required": ["columns", "data"],
                "additionalProperties": False,
                "properties": {
                    "columns": {"type": "array", "items": column_item},
                    "data": {"type": "array", "items": row, "minItems": 1},
                },
            }
        },
    }
    records = {
        "type": "object",
        "required": ["dataframe_records"],
        "additionalProperties": False,
        "properties": {"dataframe_records": {"type": "array", "items": record, "minItems": 1}},
    }
    ok = {
        "description": "Predictions",
        "content": {
            "application/json": {
                "schema": {"type": "object", "properties": {"predictions": {"type": "array"}}}
            }
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": f"Loopline serving: {model}", "version": __version__},
        "paths": {
            "/invocations": {
                "post": {
                    "summary": "Score rows (MLflow scoring protocol)",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"oneOf": [split, records]}}},
                    },
                    "responses": {"200": ok, "400": _error(), "413": _error(), "422": _error()},
                }
            },
            "/ping": {"get": {"responses": {"200": {"description": "Alive"}}}},
            "/v2/health/live": {"get": {"responses": {"200": {"description": "Alive"}}}},
            "/v2/health/ready": {"get": {"responses": {"200": {"description": "Ready"}}}},
            f"/v2/models/{model}": {"get": {"responses": {"200": {"description": "Metadata"}}}},
            **_v2_paths(model),
        },
    }


_DATATYPES = ["BOOL", *(f"{s}INT{b}" for s in ("", "U") for b in (8, 16, 32, 64))]
_DATATYPES += ["FP16", "FP32", "FP64", "BF16", "BYTES"]


def _oip_error(description: str) -> dict[str, Any]:
    schema = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _v2_paths(model: str) -> dict[str, Any]:
    """The Open Inference Protocol v2 routes (JSON and binary tensor data)."""
    tensor = {
        "type": "object",
        "required": ["name", "shape", "datatype"],
        "properties": {
            "name": {"type": "string"},
            "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
            "datatype": {"type": "string", "enum": _DATATYPES},
            "parameters": {"type": "object"},
            "data": {"type": "array"},
        },
    }
    request = {
        "type": "object",
        "required": ["inputs"],
        "properties": {
            "id": {"type": "string"},
            "parameters": {"type": "object"},
            "inputs": {"type": "array", "items": tensor, "minItems": 1},
            "outputs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {"name": {"type": "string"}, "parameters": {"type": "object"}},
                },
            },
        },
    }
    binary = {"type": "string", "format": "binary"}
    infer = {
        "post": {
            "summary": "Score tensors (Open Inference Protocol v2; binary tensor data: a JSON "
            "header of Inference-Header-Content-Length bytes, then the tensors' bytes)",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": request},
                    "application/octet-stream": {"schema": binary},
                },
            },
            "responses": {
                "200": {
                    "description": "Outputs predict (and predict_proba for classifiers)",
                    "content": {
                        "application/json": {"schema": {"type": "object"}},
                        "application/octet-stream": {"schema": binary},
                    },
                },
                "400": _oip_error("Refused"),
                "404": _oip_error("Unknown model or version"),
                "413": _oip_error("Too large"),
                "422": _oip_error("Invalid tensors"),
            },
        }
    }
    version = {"name": "version", "in": "path", "required": True, "schema": {"type": "string"}}
    ready = {"responses": {"200": {"description": "Ready"}, "404": _oip_error("Unknown")}}
    meta = {"responses": {"200": {"description": "Metadata"}, "404": _oip_error("Unknown")}}
    base = f"/v2/models/{model}"
    return {
        "/v2": {"get": {"responses": {"200": {"description": "Server metadata"}}}},
        f"{base}/ready": {"get": ready},
        f"{base}/infer": infer,
        f"{base}/versions/{{version}}": {"parameters": [version], "get": meta},
        f"{base}/versions/{{version}}/ready": {"parameters": [version], "get": ready},
        f"{base}/versions/{{version}}/infer": {"parameters": [version], **infer},
    }


__all__ = ["openapi_document"]
