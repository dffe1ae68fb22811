"""JSON Schemas (OpenAPI 3.1, i.e. JSON Schema 2020-12) of what the scoring routes accept
and return, typed from the model's signature.

Each schema says what the request readers (`_request`, `_codecs`, `_oip`) and
`Signature.check` really accept: a column is nullable only when the signature says so
(int and bool columns never are: a null turns them into floats or objects, which the
check refuses), ints are range-checked by width, category columns take strings (an unseen
value is read as missing), datetimes take ISO 8601 text. Positional rows are typed column
by column with `prefixItems`, which is why the document is OpenAPI 3.1 and not 3.0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from loopline.models import ColumnSpec, OutputSpec, Signature, dtype_family

Schema = dict[str, Any]
SCALAR: Schema = {"type": ["string", "number", "boolean", "null"]}
_FLOAT_MAX = {"float16": 65504.0, "float32": float(np.finfo(np.float32).max)}
_INTS = [f"{s}INT{b}" for s in ("", "U") for b in (8, 16, 32, 64)]
_FLOATS = ["FP16", "FP32", "FP64", "BF16"]
# The tensor datatypes each column family takes: whatever `Signature.check` casts losslessly.
TENSOR_TYPES = {
    "float": [*_FLOATS, *_INTS],
    "int": _INTS,
    "bool": ["BOOL"],
}


def _nullable(schema: Schema, spec: ColumnSpec) -> Schema:
    if spec.nullable and dtype_family(spec.dtype) in ("float", "string", "category", "datetime"):
        return {**schema, "type": [schema["type"], "null"]}
    return schema


def column_schema(spec: ColumnSpec) -> Schema:
    """One cell of `spec`'s column, as JSON."""
    fam = dtype_family(spec.dtype)
    schema: Schema
    if fam == "int":
        info = np.iinfo(np.dtype(spec.dtype))
        schema = {"type": "integer", "minimum": int(info.min), "maximum": int(info.max)}
    elif fam == "float":
        schema = {"type": "number"}
        if spec.dtype in _FLOAT_MAX:
            schema |= {"minimum": -_FLOAT_MAX[spec.dtype], "maximum": _FLOAT_MAX[spec.dtype]}
    elif fam == "bool":
        schema = {"type": "boolean"}
    elif fam == "category":
        schema = {"type": "string"}
        if spec.categories:
            shown = ", ".join(map(str, spec.categories[:50]))
            more = " …" if len(spec.categories) > 50 else ""
            schema["description"] = (
                f"one of the training categories ({shown}{more}); another value is read as missing"
            )
    elif fam == "datetime":
        schema = {"type": "string", "format": "date-time", "description": "ISO 8601"}
    elif fam == "string":
        schema = {"type": "string"}
    else:  # object columns take any value; the model decides
        return {"description": f"dtype {spec.dtype}: passed to the model as is"}
    return _nullable(schema, spec)


def example_value(spec: ColumnSpec) -> Any:
    """A value the server accepts in `spec`'s column."""
    fam = dtype_family(spec.dtype)
    if fam == "int":
        return 1
    if fam == "float":
        return 0.5
    if fam == "bool":
        return False
    if fam == "category" and spec.categories:
        return str(spec.categories[0])
    if fam == "datetime":
        return "2024-01-01T00:00:00" + ("+00:00" if "," in spec.dtype else "")
    return "a"


def _tuple(cells: list[Schema]) -> Schema:
    return {"type": "array", "prefixItems": cells, "minItems": len(cells), "maxItems": len(cells)}


def _rows(row: Schema) -> Schema:
    return {"type": "array", "items": row, "minItems": 1}


def _form(key: str, value: Schema, description: str) -> Schema:
    return {
        "title": key,
        "description": description,
        "type": "object",
        "required": [key],
        "additionalProperties": False,
        "properties": {
            key: value,
            "params": {
                "type": "object",
                "description": "MLflow inference parameters; accepted and ignored (Loopline "
                "models take none)",
            },
        },
    }


def _differs_from(names: list[str]) -> list[Schema]:
    """A list of names other than `names`: longer, or different at some position (spelled
    out, as schemathesis cannot generate from `not: {const: [...]}`)."""
    longer: Schema = {"minItems": len(names) + 1}
    differs = [{"prefixItems": [*([{}] * i), {"not": {"const": n}}]} for i, n in enumerate(names)]
    return [longer, *differs]


def mlflow_request(signature: Signature | None) -> Schema:
    """The JSON body of `/invocations`: MLflow's four input forms, plus optional `params`."""
    if signature is None or not signature.inputs:
        # Without column names the server takes named rows only (records or columns).
        records = _rows({"type": "object", "additionalProperties": SCALAR})
        split: Schema = {
            "type": "object",
            "required": ["columns", "data"],
            "properties": {
                "columns": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "data": _rows({"type": "array", "items": SCALAR}),
                "index": {"type": "array"},
            },
        }
        any_columns = {"type": "object", "additionalProperties": {"type": "array"}}
        return {"oneOf": _forms(split, records, records, {"oneOf": [records, any_columns]})}
    names = list(signature.input_names)
    cells = [column_schema(c) for c in signature.inputs]
    props = dict(zip(names, cells, strict=True))
    row = _tuple(cells)
    record = {
        "type": "object",
        "required": names,
        "properties": props,
        # Columns the model does not read are ignored (and named in a response header).
        "additionalProperties": SCALAR,
    }
    index = {"type": "array", "description": "row labels; ignored"}
    typed_split = {
        "title": "columns in signature order (or omitted)",
        "type": "object",
        "required": ["data"],
        "additionalProperties": False,
        "properties": {"columns": {"const": names}, "data": _rows(row), "index": index},
    }
    named_split = {
        "title": "columns in another order, or extra columns",
        "description": "every input column must be named; rows hold one value per column, "
        "typed as the column (extra columns are ignored)",
        "type": "object",
        "required": ["columns", "data"],
        "additionalProperties": False,
        "properties": {
            "columns": {
                "type": "array",
                "items": {"type": "string"},
                "uniqueItems": True,
                "minItems": len(names),
                "anyOf": _differs_from(names),
            },
            "data": _rows({"type": "array", "items": SCALAR}),
            "index": index,
        },
    }
    split = {"oneOf": [typed_split, named_split]}
    records = _rows(record)
    tensors = {"oneOf": [records, _rows(row)]}
    columnar = {
        "type": "object",
        "required": names,
        "properties": {
            n: {"oneOf": [{"type": "array", "items": cell, "minItems": 1}, cell]}
            for n, cell in props.items()
        },
        "additionalProperties": {"oneOf": [{"type": "array", "items": SCALAR}, SCALAR]},
        "description": "one list of values per column, all the same length",
    }
    return {"oneOf": _forms(split, records, tensors, {"oneOf": [*tensors["oneOf"], columnar]})}


def _forms(split: Schema, records: Schema, instances: Schema, inputs: Schema) -> list[Schema]:
    return [
        _form("dataframe_split", split, "pandas' split orientation: columns, data (rows), index"),
        _form("dataframe_records", records, "one object per row"),
        _form("instances", instances, "TF Serving's row format: objects or positional rows"),
        _form("inputs", inputs, "TF Serving's format: rows, or one list per column"),
    ]


def mlflow_examples(signature: Signature | None) -> dict[str, Any]:
    """Named examples of every JSON form, each one the server scores."""
    if signature is None or not signature.inputs:
        return {}
    names = list(signature.input_names)
    row = [example_value(c) for c in signature.inputs]
    record = dict(zip(names, row, strict=True))
    split = {"columns": names, "data": [row, row], "index": [0, 1]}
    forms = {
        "dataframe_split": {"dataframe_split": split},
        "dataframe_records": {"dataframe_records": [record]},
        "instances": {"instances": [row]},
        "instances_records": {"instances": [record]},
        "inputs": {"inputs": [row]},
        "inputs_columns": {"inputs": {n: [v] for n, v in record.items()}},
        "params": {"dataframe_split": {"columns": names, "data": [row]}, "params": {}},
    }
    return {k: {"summary": k.replace("_", " "), "value": v} for k, v in forms.items()}


def csv_example(signature: Signature | None) -> str | None:
    if signature is None or not signature.inputs:
        return None
    cells = [str(example_value(c)) for c in signature.inputs]
    return ",".join(signature.input_names) + "\n" + ",".join(cells) + "\n"


def predictions_schema(output: OutputSpec | None) -> Schema:
    """The 200 body of `/invocations`."""
    label: Schema = {}
    if output is not None:
        json_type = {"int": "integer", "float": "number", "bool": "boolean", "string": "string"}
        kind = json_type.get(dtype_family(output.dtype))
        if kind is not None:
            label = {"type": kind}
        if output.width > 1:
            label = {"type": "array", "items": label, "minItems": output.width}
    props: Schema = {"predictions": {"type": "array", "items": label}}
    if output is None or output.kind == "classification":
        width = len(output.classes) if output is not None and output.classes else None
        proba: Schema = {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1}}
        if width:
            proba |= {"minItems": width, "maxItems": width}
        props["probabilities"] = {
            "type": "array",
            "items": proba,
            "description": "classifiers: one probability per class, in class order",
        }
    return {"type": "object", "required": ["predictions"], "properties": props}


__all__ = [
    "SCALAR",
    "TENSOR_TYPES",
    "Schema",
    "column_schema",
    "csv_example",
    "example_value",
    "mlflow_examples",
    "mlflow_request",
    "predictions_schema",
]
