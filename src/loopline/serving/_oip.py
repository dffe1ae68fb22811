"""The Open Inference Protocol v2 (KServe / Triton): reading an inference request.

Requests: one tensor per input column (shape [n] or [n, 1]) or one [n, k] tensor whose
columns are the signature's inputs in order, as JSON or, with the binary tensor data
extension, JSON followed by raw bytes (`Inference-Header-Content-Length` gives the JSON
header's size). This module reads the request around the tensors: the body's two parts,
the id, the requested outputs, and the frame the tensors make; each tensor's data is
checked and typed in `_oip_tensors`.

Responses, metadata and error bodies are in `_oip_out`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from loopline.serving._codecs import _bad, too_many_columns
from loopline.serving._oip_tensors import param, tensor_values

HEADER_LENGTH = "inference-header-content-length"
OUTPUTS = ("predict", "predict_proba")


@dataclass(frozen=True)
class OipRequest:
    """A decoded inference request: the input frame and what the client wants back."""

    frame: pd.DataFrame
    id: str | None
    outputs: tuple[tuple[str, bool], ...] | None  # (name, as binary); None: every output
    binary_default: bool  # the request's `binary_data_output`


def split_body(body: bytes, header_length: str | None) -> tuple[bytes, bytes]:
    """(JSON header, binary section) of a request body; the whole body is JSON when the
    `Inference-Header-Content-Length` header is absent."""
    if header_length is None:
        return body, b""
    text = header_length.strip()
    if not text.isdigit() or int(text) > len(body):
        raise _bad(
            f"Inference-Header-Content-Length is {header_length!r}, the body has {len(body)} bytes",
            hint="send the byte length of the JSON header that starts the body",
        )
    size = int(text)
    return body[:size], body[size:]


def _requested_outputs(payload: dict[str, Any]) -> tuple[tuple[str, bool], ...] | None:
    binary_default = bool(param(payload, "binary_data_output", bool, "the request"))
    outputs = payload.get("outputs")
    if outputs is None:
        return None
    if not isinstance(outputs, list):
        raise _bad("'outputs' must be a list of {name} objects", hint='[{"name": "predict"}]')
    chosen: list[tuple[str, bool]] = []
    for i, out in enumerate(outputs):
        if not isinstance(out, dict) or not isinstance(out.get("name"), str):
            raise _bad(f"outputs[{i}] needs a name", hint=f"one of {', '.join(OUTPUTS)}")
        name = out["name"]
        if name not in OUTPUTS:
            raise _bad(
                f"outputs[{i}] asks for {name!r}, which this model does not produce",
                hint=f"ask for {' or '.join(OUTPUTS)} (GET /v2/models/<name> lists them)",
            )
        if any(name == seen for seen, _ in chosen):
            raise _bad(f"outputs[{i}] asks for {name!r} twice", hint="name each output once")
        if param(out, "classification", int, f"outputs[{i}]"):
            raise _bad(
                "the classification extension is not supported",
                hint="ask for predict_proba and take the top classes from it",
            )
        binary = param(out, "binary_data", bool, f"outputs[{i}]")
        chosen.append((name, binary_default if binary is None else binary))
    return tuple(chosen)


def decode_oip_request(
    payload: Any, columns: Sequence[str] | None, *, binary: bytes = b"", max_columns: int
) -> OipRequest:
    """An `OipRequest` from a parsed inference request and its binary section."""
    if not isinstance(payload, dict) or not isinstance(payload.get("inputs"), list):
        raise _bad("an inference request needs an 'inputs' list", hint="see the v2 protocol")
    rid = payload.get("id")
    if rid is not None and not isinstance(rid, str):
        raise _bad(f"the request id must be a string, got {rid!r}", hint='e.g. "id": "42"')
    outputs = _requested_outputs(payload)
    binary_default = bool(param(payload, "binary_data_output", bool, "the request"))
    tensors = payload["inputs"]
    if len(tensors) > max_columns:
        raise too_many_columns(len(tensors), max_columns)
    data: dict[str, np.ndarray[Any, Any]] = {}
    offset = 0
    for i, t in enumerate(tensors):
        values, used = tensor_values(t, i, binary, offset, max_columns)
        offset += used
        shape, name = t["shape"], t["name"]
        if len(shape) == 2 and shape[1] != 1:
            names = list(columns or [])
            if len(tensors) != 1 or len(names) != shape[1]:
                raise _bad(
                    f"inputs[{i}] {name!r} has {shape[1]} columns; an [n, k] tensor must be "
                    f"the only input and k the model's {len(names)} columns",
                    hint="send one tensor per column, named after it",
                )
            frame = pd.DataFrame(values.reshape(shape), columns=names)
            return OipRequest(frame, rid, outputs, binary_default)
        if name in data:
            raise _bad(f"inputs[{i}] {name!r} is sent twice", hint="send each column once")
        data[name] = values
    if offset != len(binary):
        raise _bad(
            f"{len(binary) - offset} bytes follow the JSON header that no input claims",
            hint="set parameters.binary_data_size on every binary input",
        )
    if len({len(v) for v in data.values()}) > 1:
        raise _bad("input tensors have different row counts", hint="one value per row each")
    return OipRequest(pd.DataFrame(data), rid, outputs, binary_default)


def decode_oip(
    payload: Any, columns: Sequence[str] | None, *, max_columns: int = 1024
) -> tuple[pd.DataFrame, str | None]:
    """(frame, request id) from a JSON inference request (see `decode_oip_request`)."""
    request = decode_oip_request(payload, columns, max_columns=max_columns)
    return request.frame, request.id


__all__ = [
    "HEADER_LENGTH",
    "OUTPUTS",
    "OipRequest",
    "decode_oip",
    "decode_oip_request",
    "split_body",
]
