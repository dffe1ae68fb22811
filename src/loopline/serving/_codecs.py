"""Request and response codecs: MLflow's scoring protocol and the Open Inference Protocol v2.

Pure functions from parsed JSON to a DataFrame and back, so a client of
`mlflow models serve` or of KServe works unchanged. Every malformed payload raises
`InvalidInputError` naming what is wrong and where (field, row).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from loopline.errors import InvalidInputError

MLFLOW_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")
_OIP_TYPES = {
    "BOOL": "bool",
    "INT8": "int64",
    "INT16": "int64",
    "INT32": "int64",
    "INT64": "int64",
    "UINT8": "int64",
    "UINT16": "int64",
    "UINT32": "int64",
    "UINT64": "int64",
    "FP16": "float64",
    "FP32": "float64",
    "FP64": "float64",
    "BYTES": "object",
}


def _bad(message: str, hint: str, **details: Any) -> InvalidInputError:
    return InvalidInputError(message, hint=hint, details=details)


def _reject_constant(token: str) -> float:
    raise _bad(
        f"the request contains {token}, which is not a finite number",
        hint="send finite numbers; send null for a missing value",
    )


def parse_json(body: bytes) -> Any:
    """JSON with NaN/Infinity refused (Python's json would accept them silently)."""
    try:
        return json.loads(body, parse_constant=_reject_constant)
    except InvalidInputError:
        raise
    except (ValueError, UnicodeDecodeError) as exc:
        raise _bad(f"the body is not valid JSON: {exc}", hint="send application/json") from None


def _rows_to_frame(rows: Any, columns: Sequence[str], field: str) -> pd.DataFrame:
    if not isinstance(rows, list):
        raise _bad(f"'{field}' must be a list of rows", hint="e.g. [[1.0, 2.0], [3.0, 4.0]]")
    width = len(columns)
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != width:
            got = len(row) if isinstance(row, list) else type(row).__name__
            raise _bad(
                f"row {i} of '{field}' has {got} values, expected {width} ({', '.join(columns)})",
                hint="send one value per column, in the column order",
                row=i,
            )
    return pd.DataFrame(rows, columns=list(columns))


def _records_to_frame(records: Any, field: str) -> pd.DataFrame:
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise _bad(f"'{field}' must be a list of objects", hint='e.g. [{"age": 31, "plan": "pro"}]')
    return pd.DataFrame.from_records(records)


def decode_mlflow(payload: Any, columns: Sequence[str] | None) -> pd.DataFrame:
    """A DataFrame from any of MLflow's four JSON input formats.

    `columns` (the model signature's input names) give position-only rows their names.
    """
    if not isinstance(payload, dict):
        raise _bad("the body must be a JSON object", hint=f"use one of {', '.join(MLFLOW_KEYS)}")
    keys = [k for k in MLFLOW_KEYS if k in payload]
    if len(keys) != 1:
        raise _bad(
            "the body must have exactly one of " + ", ".join(MLFLOW_KEYS),
            hint='e.g. {"dataframe_split": {"columns": [...], "data": [[...]]}}',
        )
    key = keys[0]
    value = payload[key]
    if key == "dataframe_split":
        if not isinstance(value, dict) or "data" not in value:
            raise _bad("'dataframe_split' needs 'columns' and 'data'", hint="see MLflow's docs")
        cols = value.get("columns") or (list(columns) if columns else None)
        if not isinstance(cols, list) or not all(isinstance(c, str) for c in cols):
            raise _bad("'dataframe_split.columns' must be a list of names", hint="name columns")
        return _rows_to_frame(value["data"], cols, "dataframe_split.data")
    if key == "dataframe_records":
        return _records_to_frame(value, key)
    if key == "inputs" and isinstance(value, dict):
        lengths = {len(v) if isinstance(v, list) else 1 for v in value.values()}
        if len(lengths) > 1:
            raise _bad("'inputs' columns have different lengths", hint="one value per row each")
        return pd.DataFrame({k: v if isinstance(v, list) else [v] for k, v in value.items()})
    # instances / inputs as a list: of objects (records) or of positional rows
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return _records_to_frame(value, key)
    if not columns:
        raise _bad(
            f"'{key}' rows have no column names and the model has no signature",
            hint="send dataframe_split with columns, or dataframe_records",
        )
    return _rows_to_frame(value, columns, key)


def decode_oip(payload: Any, columns: Sequence[str] | None) -> tuple[pd.DataFrame, str | None]:
    """(frame, request id) from an Open Inference Protocol v2 inference request.

    Accepts one tensor per column (name = column, shape [n] or [n, 1]) or a single
    [n, k] tensor whose columns are the signature's inputs in order.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("inputs"), list):
        raise _bad("an inference request needs an 'inputs' list", hint="see the v2 protocol")
    tensors = payload["inputs"]
    data: dict[str, Any] = {}
    for i, t in enumerate(tensors):
        if not isinstance(t, dict) or not {"name", "shape", "datatype", "data"} <= set(t):
            raise _bad(f"inputs[{i}] needs name, shape, datatype and data", hint="v2 tensor format")
        shape, values = t["shape"], t["data"]
        if t["datatype"] not in _OIP_TYPES:
            raise _bad(
                f"inputs[{i}] has unknown datatype {t['datatype']!r}",
                hint=f"use one of {', '.join(_OIP_TYPES)}",
            )
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise _bad(f"inputs[{i}].shape must be a list of sizes", hint="e.g. [2, 3]")
        flat = np.asarray(values, dtype=_OIP_TYPES[t["datatype"]]).ravel()
        expected = int(np.prod(shape)) if shape else 1
        if flat.size != expected:
            raise _bad(
                f"inputs[{i}] has {flat.size} values but shape {shape}",
                hint="data must hold prod(shape) values, row-major",
            )
        if len(tensors) == 1 and len(shape) == 2 and shape[1] > 1:
            names = list(columns or [])
            if len(names) != shape[1]:
                raise _bad(
                    f"inputs[{i}] has {shape[1]} columns, the model has {len(names)}",
                    hint="send one tensor per column, named after it",
                )
            frame = pd.DataFrame(flat.reshape(shape), columns=names)
            return frame, payload.get("id")
        data[str(t["name"])] = flat
    lengths = {len(v) for v in data.values()}
    if len(lengths) > 1:
        raise _bad("input tensors have different row counts", hint="one value per row each")
    return pd.DataFrame(data), payload.get("id")


def _jsonable(values: np.ndarray[Any, Any]) -> list[Any]:
    if values.dtype.kind in "fiub":
        return values.tolist()  # type: ignore[no-any-return]
    return [v.item() if isinstance(v, np.generic) else v for v in values.tolist()]


def encode_mlflow(
    labels: np.ndarray[Any, Any], proba: np.ndarray[Any, Any] | None
) -> dict[str, Any]:
    """MLflow's response shape; classifiers also carry per-class probabilities."""
    out: dict[str, Any] = {"predictions": _jsonable(labels)}
    if proba is not None:
        out["probabilities"] = proba.tolist()
    return out


def _oip_type(values: np.ndarray[Any, Any]) -> str:
    return {"f": "FP64", "i": "INT64", "u": "INT64", "b": "BOOL"}.get(values.dtype.kind, "BYTES")


def encode_oip(
    model: str,
    version: str,
    request_id: str | None,
    labels: np.ndarray[Any, Any],
    proba: np.ndarray[Any, Any] | None,
) -> dict[str, Any]:
    outputs = [
        {
            "name": "predict",
            "shape": [len(labels)],
            "datatype": _oip_type(labels),
            "data": _jsonable(labels),
        }
    ]
    if proba is not None:
        outputs.append(
            {
                "name": "predict_proba",
                "shape": list(proba.shape),
                "datatype": "FP64",
                "data": proba.ravel().tolist(),
            }
        )
    out: dict[str, Any] = {"model_name": model, "model_version": version, "outputs": outputs}
    if request_id is not None:
        out["id"] = request_id
    return out


def check_finite(frame: pd.DataFrame) -> None:
    """Refuse ±inf in numeric columns, naming the column and the first bad row."""
    for name in frame.columns:
        col = frame[name]
        if col.dtype.kind == "f":
            bad = np.isinf(col.to_numpy())
            if bad.any():
                row = int(np.argmax(bad))
                raise _bad(
                    f"column {name!r} row {row} is not a finite number",
                    hint="send finite numbers; null for missing",
                    column=name,
                    row=row,
                )


__all__ = [
    "MLFLOW_KEYS",
    "check_finite",
    "decode_mlflow",
    "decode_oip",
    "encode_mlflow",
    "encode_oip",
    "parse_json",
]
