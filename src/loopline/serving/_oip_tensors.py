"""Open Inference Protocol v2 tensors: datatypes, and one input tensor's data as a typed array.

Tensor data is JSON (flat row-major or nested exactly as the shape) or, with the binary
tensor data extension, raw little-endian bytes (`parameters.binary_data_size` gives each
tensor's share of the binary section). Conversion is strict: a value that does not fit the
declared datatype (a string in FP32, 1.5 in INT64, 2**70 in INT64, -1 in UINT8, ragged
nesting) is an `InvalidInputError` naming the tensor and the element; nothing is truncated
or parsed from a string.

The request around the tensors (headers, outputs, the frame) is read in `_oip`.
"""

from __future__ import annotations

import math
import struct
from typing import Any, cast

import numpy as np

from loopline.errors import InvalidInputError
from loopline.serving._codecs import _bad, too_many_columns

_NUMPY = {
    "BOOL": np.dtype(bool),
    "INT8": np.dtype("int8"),
    "INT16": np.dtype("int16"),
    "INT32": np.dtype("int32"),
    "INT64": np.dtype("int64"),
    "UINT8": np.dtype("uint8"),
    "UINT16": np.dtype("uint16"),
    "UINT32": np.dtype("uint32"),
    "UINT64": np.dtype("uint64"),
    "FP16": np.dtype("float16"),
    "FP32": np.dtype("float32"),
    "FP64": np.dtype("float64"),
    "BF16": np.dtype("float32"),  # no numpy bfloat16: widened losslessly to float32
    "BYTES": np.dtype(object),
}
DATATYPES = tuple(_NUMPY)
# The largest finite value each float datatype holds (BF16 shares float32's exponent).
_FLOAT_MAX = {
    "FP16": float(np.finfo(np.float16).max),
    "FP32": float(np.finfo(np.float32).max),
    "BF16": 3.3895313892515355e38,
    "FP64": float(np.finfo(np.float64).max),
}
_SIGNATURE_TYPES = {
    **{f"int{b}": f"INT{b}" for b in (8, 16, 32, 64)},
    **{f"uint{b}": f"UINT{b}" for b in (8, 16, 32, 64)},
    "float16": "FP16",
    "float32": "FP32",
    "float64": "FP64",
    "bool": "BOOL",
}


def oip_datatype(dtype: str) -> str:
    """The OIP datatype of a signature dtype name (strings, categories, datetimes: BYTES)."""
    return _SIGNATURE_TYPES.get(dtype, "BYTES")


def signature_datatype(dtype: str) -> str | None:
    """The OIP datatype of a numeric or bool dtype name; None for any other dtype."""
    return _SIGNATURE_TYPES.get(dtype)


def param(obj: dict[str, Any], key: str, kind: type, where: str) -> Any:
    """`obj.parameters[key]` (of a request, an output or a tensor), exactly of type `kind`;
    None when absent."""
    params = obj.get("parameters")
    if params is None:
        return None
    if not isinstance(params, dict):
        raise _bad(f"{where}.parameters must be an object", hint='e.g. {"binary_data": true}')
    value = params.get(key)
    if value is not None and (type(value) is not kind):
        raise _bad(
            f"{where}.parameters.{key} must be {kind.__name__}, got {value!r}",
            hint="see the binary tensor data extension",
        )
    return value


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:39] + "…"
        return f"the string {shown!r}"
    if isinstance(value, list | dict):
        return "a nested list" if isinstance(value, list) else "an object"
    return repr(value)


def _flatten(data: Any, shape: list[int], where: str) -> list[Any]:
    """The elements of `data` in row-major order: flat as sent, or nested exactly as the
    shape says (any ragged level is an error)."""
    if not isinstance(data, list):
        raise _bad(f"{where}.data must be a list", hint="send the elements, row-major")
    if not data or not isinstance(data[0], list):
        return data
    level: list[Any] = [data]
    for depth, size in enumerate(shape):
        items: list[Any] = []
        for node in level:
            if not isinstance(node, list) or len(node) != size:
                got = f"{len(node)} items" if isinstance(node, list) else _describe(node)
                raise _bad(
                    f"{where}.data is ragged: a list at depth {depth} has {got}, "
                    f"shape {shape} says {size}",
                    hint="send a flat row-major list, or nest exactly as the shape",
                )
            items.extend(node)
        level = items
    return level


def _wrong(where: str, datatype: str, index: int, value: Any, want: str) -> InvalidInputError:
    hint = {
        "a number": "send numbers in numeric tensors (no strings, booleans or nesting); "
        "use BYTES for text",
        "an integer": "send whole numbers in integer tensors; use FP32/FP64 for fractions",
        "true or false": "send JSON booleans in BOOL tensors",
        "a string": "send strings in BYTES tensors",
    }[want]
    return InvalidInputError(
        f"{where} ({datatype}): element {index} is {_describe(value)}, not {want}",
        hint=hint,
        details={"element": index, "datatype": datatype},
    )


def _first(flat: list[Any], ok: Any) -> int:
    return next(i for i, v in enumerate(flat) if not ok(v))


def _from_json(flat: list[Any], datatype: str, where: str) -> np.ndarray[Any, Any]:
    types = set(map(type, flat))
    if datatype == "BOOL":
        if types - {bool}:
            i = _first(flat, lambda v: type(v) is bool)
            raise _wrong(where, datatype, i, flat[i], "true or false")
        return np.array(flat, dtype=bool)
    if datatype == "BYTES":
        if types - {str}:
            i = _first(flat, lambda v: type(v) is str)
            raise _wrong(where, datatype, i, flat[i], "a string")
        return np.array(flat, dtype=object)
    if datatype in _FLOAT_MAX:
        if types - {int, float, type(None)}:  # null is a missing value (NaN)
            i = _first(flat, lambda v: type(v) in (int, float) or v is None)
            raise _wrong(where, datatype, i, flat[i], "a number")
        limit = _FLOAT_MAX[datatype]
        big = [i for i, v in enumerate(flat) if v is not None and abs(v) > limit]
        if big:
            raise InvalidInputError(
                f"{where} ({datatype}): element {big[0]} is {flat[big[0]]!r}, outside the "
                f"range of {datatype} (±{limit:g})",
                hint="send a wider float datatype (FP64) or smaller values",
                details={"element": big[0], "datatype": datatype},
            )
        return np.array(flat, dtype=np.float64).astype(_NUMPY[datatype], copy=False)
    # integers: whole numbers only (1.0 is fine, 1.5 is not), range-checked
    if types - {int}:
        for i, v in enumerate(flat):
            if type(v) is int:
                continue
            if type(v) is not float:
                raise _wrong(where, datatype, i, v, "a number")
            if not v.is_integer():
                raise _wrong(where, datatype, i, v, "an integer")
        flat = [int(v) for v in flat]
    info = np.iinfo(cast(Any, _NUMPY[datatype]))
    if flat and (min(flat) < info.min or max(flat) > info.max):
        i = _first(flat, lambda v: info.min <= v <= info.max)
        raise InvalidInputError(
            f"{where} ({datatype}): element {i} is {flat[i]}, outside the range of "
            f"{datatype} ({info.min} to {info.max})",
            hint="send a wider integer datatype, or values in range",
            details={"element": i, "datatype": datatype},
        )
    return np.array(flat, dtype=_NUMPY[datatype])


def _from_binary(chunk: bytes, datatype: str, count: int, where: str) -> np.ndarray[Any, Any]:
    if datatype == "BYTES":
        return _bytes_elements(chunk, count, where)
    size = 2 if datatype == "BF16" else _NUMPY[datatype].itemsize
    if len(chunk) != count * size:
        raise _bad(
            f"{where} has {len(chunk)} bytes of binary data, its shape and {datatype} "
            f"need {count * size}",
            hint="binary_data_size must be prod(shape) times the element size",
        )
    if datatype == "BF16":  # the high half of a float32
        halves = np.frombuffer(chunk, dtype="<u2").astype(np.uint32) << 16
        return halves.view(np.float32)
    if datatype == "BOOL":
        raw = np.frombuffer(chunk, dtype=np.uint8)
        if (raw > 1).any():
            i = int(np.argmax(raw > 1))
            raise _bad(
                f"{where} (BOOL): byte {i} is {int(raw[i])}, not 0 or 1",
                hint="send one byte per element: 1 for true, 0 for false",
            )
        return raw.astype(bool)
    native = _NUMPY[datatype]
    return np.frombuffer(chunk, dtype=native.newbyteorder("<")).astype(native)


def _bytes_elements(chunk: bytes, count: int, where: str) -> np.ndarray[Any, Any]:
    out = np.empty(count, dtype=object)
    view, pos = memoryview(chunk), 0
    for i in range(count):
        if pos + 4 > len(chunk):
            raise _bad(
                f"{where} (BYTES): the binary data ends at element {i} of {count}",
                hint="each element is a 4-byte little-endian length, then the bytes",
            )
        (length,) = struct.unpack_from("<I", chunk, pos)
        end = pos + 4 + length
        if end > len(chunk):
            raise _bad(
                f"{where} (BYTES): element {i} claims {length} bytes, past the tensor's end",
                hint="each element is a 4-byte little-endian length, then the bytes",
            )
        try:
            out[i] = str(view[pos + 4 : end], "utf-8")
        except UnicodeDecodeError:
            raise _bad(
                f"{where} (BYTES): element {i} is not UTF-8 text",
                hint="this model's string columns take UTF-8 text",
            ) from None
        pos = end
    if pos != len(chunk):
        raise _bad(
            f"{where} (BYTES): {len(chunk) - pos} bytes follow the last of {count} elements",
            hint="binary_data_size must cover exactly the tensor's elements",
        )
    return out


def tensor_values(t: Any, i: int, binary: bytes, offset: int, max_columns: int) -> tuple[Any, int]:
    """(flat typed values, bytes of the binary section used) of inputs[i]."""
    where = f"inputs[{i}]"
    if not isinstance(t, dict) or not {"name", "shape", "datatype"} <= set(t):
        raise _bad(f"{where} needs name, shape, datatype and data", hint="v2 tensor format")
    if not isinstance(t["name"], str):
        raise _bad(f"{where}.name must be a string", hint="name the tensor after its column")
    where = f"inputs[{i}] {t['name']!r}"
    datatype, shape = t["datatype"], t["shape"]
    if not isinstance(datatype, str) or datatype not in _NUMPY:
        raise _bad(
            f"{where} has unknown datatype {datatype!r}", hint=f"use one of {', '.join(_NUMPY)}"
        )
    if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
        raise _bad(f"{where}.shape must be a list of sizes", hint="e.g. [2, 3]")
    if len(shape) not in (1, 2):
        raise _bad(
            f"{where} has shape {shape}; a tabular model takes [rows] or [rows, columns]",
            hint="send one tensor per column, shape [n], or one [n, k] tensor",
        )
    if len(shape) == 2 and shape[1] > max_columns:
        raise too_many_columns(shape[1], max_columns)
    count = math.prod(shape)
    size = param(t, "binary_data_size", int, where)
    if size is not None:
        if "data" in t:
            raise _bad(f"{where} has both data and binary_data_size", hint="send one of them")
        if size < 0 or offset + size > len(binary):
            raise _bad(
                f"{where} declares {size} bytes of binary data, {len(binary) - offset} remain",
                hint="send each binary tensor's bytes after the JSON header, in input order",
            )
        return _from_binary(binary[offset : offset + size], datatype, count, where), size
    if "data" not in t:
        raise _bad(f"{where} needs name, shape, datatype and data", hint="v2 tensor format")
    flat = _flatten(t["data"], shape, where)
    if len(flat) != count:
        raise _bad(
            f"{where} has {len(flat)} values but shape {shape}",
            hint="data must hold prod(shape) values, row-major",
        )
    return _from_json(flat, datatype, where), 0


__all__ = ["DATATYPES", "oip_datatype", "param", "signature_datatype", "tensor_values"]
