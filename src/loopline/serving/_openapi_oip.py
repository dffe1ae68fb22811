"""JSON Schemas (OpenAPI 3.1) of the Open Inference Protocol v2 bodies, typed from the
signature: one tensor per column with the datatypes its column takes losslessly (FP* and
INT* for a float column, INT* for an int one, BOOL, BYTES for text), or a single [n, k]
tensor when one datatype suits every column."""

from __future__ import annotations

from typing import Any

from loopline.models import ColumnSpec, OutputSpec, Signature, dtype_family
from loopline.serving._oip import OUTPUTS
from loopline.serving._oip_tensors import DATATYPES, oip_datatype
from loopline.serving._openapi_schemas import (
    TENSOR_TYPES,
    Schema,
    column_schema,
    example_value,
)

# Open Inference Protocol v2 ---------------------------------------------------------------


def _tensor_data(cell: Schema) -> Schema:
    """Tensor data: flat row-major, or nested as the shape (an [n, 1] tensor as [[v], ...])."""
    return {"type": "array", "items": {"oneOf": [cell, {"type": "array", "items": cell}]}}


def _tensor(name: Schema, datatypes: list[str], shape: Schema, data: Schema) -> Schema:
    return {
        "type": "object",
        "required": ["name", "shape", "datatype"],
        "properties": {
            "name": name,
            "shape": shape,
            "datatype": {"enum": datatypes},
            "parameters": {
                "type": "object",
                "properties": {"binary_data_size": {"type": "integer", "minimum": 0}},
                "description": "binary_data_size: the tensor's bytes follow the JSON header "
                "(application/octet-stream requests) instead of `data`",
            },
            "data": data,
        },
    }


def _column_tensor(spec: ColumnSpec) -> Schema:
    types = TENSOR_TYPES.get(dtype_family(spec.dtype), ["BYTES"])
    cell = column_schema(spec)
    if dtype_family(spec.dtype) == "int":  # an INT64 tensor holds any int; its range is checked
        cell = {"type": "integer"}
    shape = {
        "type": "array",
        "prefixItems": [{"type": "integer", "minimum": 0}, {"const": 1}],
        "minItems": 1,
        "maxItems": 2,
    }
    return _tensor({"const": spec.name}, types, shape, _tensor_data(cell))


def oip_request(signature: Signature | None) -> Schema:
    """The JSON body of `.../infer`: one tensor per column, or one [n, k] tensor."""
    outputs = {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"enum": list(OUTPUTS)},
                "parameters": {
                    "type": "object",
                    "properties": {"binary_data": {"type": "boolean"}},
                },
            },
        },
    }
    shape_any = {"type": "array", "items": {"type": "integer", "minimum": 0}}
    if signature is None or not signature.inputs:
        inputs: Schema = {
            "type": "array",
            "minItems": 1,
            "items": _tensor({"type": "string"}, list(DATATYPES), shape_any, {"type": "array"}),
        }
    else:
        per_column = [_column_tensor(c) for c in signature.inputs]
        n = len(per_column)
        forms: list[Schema] = [
            {
                "title": "one tensor per column",
                "type": "array",
                "items": {"oneOf": per_column},
                "minItems": n,
                "maxItems": n,
            }
        ]
        # One [n, k] tensor works when one datatype suits every column.
        shared = [
            t
            for t in DATATYPES
            if all(
                t in TENSOR_TYPES.get(dtype_family(c.dtype), ["BYTES"]) for c in signature.inputs
            )
        ]
        if shared and n > 1:
            cell: Schema = {"type": ["number", "null"]}
            if shared == ["BOOL"] or "BYTES" in shared:
                cell = {"type": "boolean" if shared == ["BOOL"] else "string"}
            shape = {
                "type": "array",
                "prefixItems": [{"type": "integer", "minimum": 0}, {"const": n}],
                "minItems": 2,
                "maxItems": 2,
            }
            wide = _tensor({"type": "string"}, shared, shape, _tensor_data(cell))
            forms.append(
                {
                    "title": "one [n, k] tensor",
                    "type": "array",
                    "prefixItems": [wide],
                    "minItems": 1,
                    "maxItems": 1,
                }
            )
        inputs = {"oneOf": forms}
    return {
        "type": "object",
        "required": ["inputs"],
        "properties": {
            "id": {"type": "string"},
            "parameters": {
                "type": "object",
                "properties": {"binary_data_output": {"type": "boolean"}},
            },
            "inputs": inputs,
            "outputs": outputs,
        },
    }


def oip_example(signature: Signature | None) -> dict[str, Any] | None:
    if signature is None or not signature.inputs:
        return None
    inputs = [
        {
            "name": c.name,
            "shape": [1],
            "datatype": oip_datatype(c.dtype),
            "data": [example_value(c)],
        }
        for c in signature.inputs
    ]
    return {"id": "1", "inputs": inputs}


def oip_response(output: OutputSpec | None) -> Schema:
    tensor = {
        "type": "object",
        "required": ["name", "shape", "datatype"],
        "properties": {
            "name": {"enum": list(OUTPUTS)},
            "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
            "datatype": {"enum": list(DATATYPES)},
            "data": {"type": "array"},
            "parameters": {
                "type": "object",
                "properties": {"binary_data_size": {"type": "integer", "minimum": 0}},
            },
        },
    }
    return {
        "type": "object",
        "required": ["model_name", "model_version", "outputs"],
        "properties": {
            "model_name": {"type": "string"},
            "model_version": {"type": "string"},
            "id": {"type": "string"},
            "outputs": {"type": "array", "items": tensor},
        },
    }


def oip_metadata() -> Schema:
    tensor = {
        "type": "object",
        "required": ["name", "datatype", "shape"],
        "properties": {
            "name": {"type": "string"},
            "datatype": {"enum": list(DATATYPES)},
            "shape": {"type": "array", "items": {"type": "integer", "minimum": -1}},
        },
    }
    return {
        "type": "object",
        "required": ["name", "versions", "platform", "inputs", "outputs"],
        "properties": {
            "name": {"type": "string"},
            "versions": {"type": "array", "items": {"type": "string"}},
            "platform": {"type": "string"},
            "inputs": {"type": "array", "items": tensor},
            "outputs": {"type": "array", "items": tensor},
        },
    }


__all__ = ["oip_example", "oip_metadata", "oip_request", "oip_response"]
