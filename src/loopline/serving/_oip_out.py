"""Open Inference Protocol v2 responses, model metadata and error bodies.

`predict` is typed by what the model returns (an object array of ints is INT64, not
BYTES) and, for classifiers, `predict_proba` is FP64; the request's `outputs` select
among them, and `binary_data` / `binary_data_output` return them as binary tensor data
after the JSON header, whose size `Inference-Header-Content-Length` gives.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from loopline.errors import InvalidInputError
from loopline.models import Signature
from loopline.serving._oip import HEADER_LENGTH
from loopline.serving._oip_tensors import oip_datatype, signature_datatype


def _datatype_of(values: np.ndarray[Any, Any]) -> str:
    return signature_datatype(values.dtype.name) or "BYTES"


def _typed_labels(labels: np.ndarray[Any, Any], declared: str | None) -> np.ndarray[Any, Any]:
    """Labels as a typed array: an object array of ints is INT64, of bools BOOL; the
    signature's own width is kept when the values fit it."""
    if labels.dtype.kind == "O":
        kind = pd.api.types.infer_dtype(labels.ravel(), skipna=False)
        typed = {"integer": "int64", "boolean": "bool", "floating": "float64"}.get(kind)
        if kind == "mixed-integer-float":
            typed = "float64"
        if typed is not None:
            try:
                labels = labels.astype(typed)
            except (OverflowError, ValueError, TypeError):
                return labels
    if declared and signature_datatype(declared) and declared != labels.dtype.name:
        want = np.dtype(declared)
        if want.kind == labels.dtype.kind or (want.kind in "iu" and labels.dtype.kind in "iu"):
            cast = labels.astype(want)
            if np.array_equal(cast, labels):
                return cast
    return labels


def _tensor_bytes(values: np.ndarray[Any, Any], datatype: str) -> bytes:
    flat = values.ravel()
    if datatype == "BYTES":
        parts = []
        for v in flat.tolist():
            raw = v if isinstance(v, bytes) else str(v).encode()
            parts.append(struct.pack("<I", len(raw)) + raw)
        return b"".join(parts)
    if datatype == "BOOL":
        return flat.astype(np.uint8).tobytes()
    return flat.astype(flat.dtype.newbyteorder("<"), copy=False).tobytes()


def _tensor_json(values: np.ndarray[Any, Any], datatype: str) -> list[Any]:
    flat = values.ravel()
    if datatype != "BYTES":
        items: list[Any] = flat.tolist()
        return items
    return [v.decode(errors="replace") if isinstance(v, bytes) else str(v) for v in flat.tolist()]


def encode_oip_body(
    model: str,
    version: str,
    request_id: str | None,
    labels: np.ndarray[Any, Any],
    proba: np.ndarray[Any, Any] | None,
    *,
    outputs: tuple[tuple[str, bool], ...] | None = None,
    binary_default: bool = False,
    label_dtype: str | None = None,
) -> tuple[bytes, dict[str, str]]:
    """(body, headers) of an inference response: JSON, or with binary outputs a JSON
    header followed by their bytes and `Inference-Header-Content-Length`."""
    typed = _typed_labels(labels, label_dtype)
    produced: dict[str, tuple[str, np.ndarray[Any, Any]]] = {
        "predict": (_datatype_of(typed), typed)
    }
    if proba is not None:
        produced["predict_proba"] = ("FP64", np.asarray(proba, dtype=np.float64))
    wanted = outputs if outputs is not None else [(n, binary_default) for n in produced]
    rendered: list[dict[str, Any]] = []
    chunks: list[bytes] = []
    for name, binary in wanted:
        if name not in produced:
            raise InvalidInputError(
                f"this model does not produce {name!r} (it gives {', '.join(produced)})",
                hint="ask only for the outputs GET /v2/models/<name> lists for it",
            )
        datatype, values = produced[name]
        out: dict[str, Any] = {"name": name, "shape": list(values.shape), "datatype": datatype}
        if binary:
            chunk = _tensor_bytes(values, datatype)
            out["parameters"] = {"binary_data_size": len(chunk)}
            chunks.append(chunk)
        else:
            out["data"] = _tensor_json(values, datatype)
        rendered.append(out)
    body: dict[str, Any] = {"model_name": model, "model_version": version, "outputs": rendered}
    if request_id is not None:
        body["id"] = request_id
    header = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
    if not chunks:
        return header, {"content-type": "application/json"}
    return header + b"".join(chunks), {
        "content-type": "application/octet-stream",
        HEADER_LENGTH: str(len(header)),
    }


def encode_oip(
    model: str,
    version: str,
    request_id: str | None,
    labels: np.ndarray[Any, Any],
    proba: np.ndarray[Any, Any] | None,
    *,
    label_dtype: str | None = None,
) -> dict[str, Any]:
    """The JSON inference response (every output as JSON data)."""
    body, _ = encode_oip_body(model, version, request_id, labels, proba, label_dtype=label_dtype)
    result: dict[str, Any] = json.loads(body)
    return result


def model_metadata(
    name: str, versions: Sequence[str], signature: Signature | None, flavor: str
) -> dict[str, Any]:
    """The v2 model metadata: inputs and outputs in OIP datatypes, from the signature."""
    inputs = [
        {"name": c.name, "datatype": oip_datatype(c.dtype), "shape": [-1]}
        for c in (signature.inputs if signature else ())
    ]
    output = signature.output if signature else None
    label = oip_datatype(output.dtype) if output is not None else "BYTES"
    width = output.width if output is not None else 1
    outputs: list[dict[str, Any]] = [
        {"name": "predict", "datatype": label, "shape": [-1] if width == 1 else [-1, width]}
    ]
    if output is not None and output.kind == "classification":
        classes = len(output.classes) if output.classes else -1
        outputs.append({"name": "predict_proba", "datatype": "FP64", "shape": [-1, classes]})
    return {
        "name": name,
        "versions": list(versions),
        "platform": f"loopline-{flavor}",
        "inputs": inputs,
        "outputs": outputs,
    }


def error_body(message: str) -> dict[str, str]:
    """The spec's error body: `{"error": "<string>"}`."""
    return {"error": message}


__all__ = ["encode_oip", "encode_oip_body", "error_body", "model_metadata"]
