"""Request and response codecs: MLflow's scoring protocol and the Open Inference Protocol v2.

Pure functions from parsed JSON to a DataFrame and back, so a client of
`mlflow models serve` or of KServe works unchanged. Every malformed payload raises
`InvalidInputError` naming what is wrong and where (field, row).

Every input is bounded before it costs much: JSON nesting is checked on the raw bytes
before parsing (`MAX_JSON_DEPTH`), rows are counted on the parsed payload before any
DataFrame is built (`mlflow_rows`, `oip_rows`), and the number of distinct columns is
capped (`MAX_COLUMNS`, or the signature's width when that is larger).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from loopline.errors import InvalidInputError, PayloadTooLargeError

MLFLOW_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")
MAX_JSON_DEPTH = 32  # no scoring payload needs more than a handful of levels
MAX_COLUMNS = 1024  # distinct column names per request, unless the signature has more
_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"', re.DOTALL)
_DEPTH_CHUNK = 1 << 20


def _bad(message: str, hint: str, **details: Any) -> InvalidInputError:
    return InvalidInputError(message, hint=hint, details=details)


def _reject_constant(token: str) -> float:
    raise _bad(
        f"the request contains {token}, which is not a finite number",
        hint="send finite numbers; send null for a missing value",
    )


def scan_json(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> np.ndarray[Any, Any] | None:
    """Check the JSON text's nesting on the raw bytes, before any parsing: an
    `InvalidInputError` when arrays/objects nest deeper than `max_depth` (brackets inside
    strings do not count). Returns how many arrays/objects open at each depth (index 1 is
    the top level), or None for a body with no more than `max_depth` brackets in all.

    A one-row request costs two `bytes.count` calls. Otherwise one regex pass blanks out
    strings and a numpy running sum goes over the brackets in 1 MiB chunks, so memory
    stays bounded (about 10 ms per MiB).
    """
    if body.count(b"[") + body.count(b"{") <= max_depth:
        return None
    text = _STRING.sub(b'""', body) if b'"' in body else body
    data = np.frombuffer(text, dtype=np.uint8)
    openings = np.zeros(max_depth + 2, dtype=np.int64)
    depth = 0
    for start in range(0, data.size, _DEPTH_CHUNK):
        chunk = data[start : start + _DEPTH_CHUNK]
        opens = (chunk == 0x5B) | (chunk == 0x7B)  # [ {
        closes = (chunk == 0x5D) | (chunk == 0x7D)  # ] }
        running = np.cumsum(opens.astype(np.int32) - closes.astype(np.int32), dtype=np.int64)
        running += depth
        if running.size == 0:
            continue
        deepest = int(running.max())
        if deepest > max_depth:
            raise _bad(
                f"the JSON body is nested deeper than {max_depth} levels",
                hint="send rows as flat lists or objects of values",
                max_depth=max_depth,
            )
        at = running[opens]
        at = at[at > 0]  # malformed text (more closes than opens) is json's to explain
        openings += np.bincount(at, minlength=max_depth + 2)[: max_depth + 2]
        depth = int(running[-1])
    return openings


# One decoder for every request (json.loads with keyword arguments builds a new one per call).
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def load_json(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """`json.loads` with NaN/Infinity refused (Python's json would accept them silently);
    call `scan_json` first to bound the nesting."""
    try:
        return _DECODER.decode(body.decode(json.detect_encoding(body), "surrogatepass"))
    except InvalidInputError:
        raise
    except RecursionError:  # belt and braces: `scan_json` refuses this before parsing
        raise _bad(
            f"the JSON body is nested deeper than {max_depth} levels",
            hint="send rows as flat lists or objects of values",
            max_depth=max_depth,
        ) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise _bad(f"the body is not valid JSON: {exc}", hint="send application/json") from None


def parse_json(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """JSON with NaN/Infinity refused and nesting deeper than `max_depth` refused before
    parsing."""
    scan_json(body, max_depth)
    return load_json(body, max_depth)


_LEADING_KEY = re.compile(
    rb'\s*\{\s*"(dataframe_split|dataframe_records|instances|inputs)"\s*:\s*([\[{])'
)
_OIP_SHAPE = re.compile(rb'"shape"\s*:\s*\[\s*(\d{1,20})')


def estimate_mlflow_rows(body: bytes, openings: np.ndarray[Any, Any] | None) -> int:
    """Rows of an MLflow JSON body, read off `scan_json`'s counts before parsing: the
    rows of `dataframe_split` are the arrays at depth 4, those of records or of
    `instances`/`inputs` rows the arrays/objects at depth 3. 0 when unsure (a columnar
    `inputs` object, scalar rows, another layout): the exact count follows the parse."""
    match = _LEADING_KEY.match(body)
    if openings is None or match is None:
        return 0
    key, opener = match.group(1), match.group(2)
    if key == b"dataframe_split":
        depth = 4
    elif opener == b"[":
        depth = 3
    else:
        return 0
    return int(openings[depth]) if depth < openings.size else 0


def estimate_oip_rows(body: bytes) -> int:
    """The largest first dimension of any tensor shape in an OIP JSON body, before
    parsing (0 when none is found); the exact check follows the parse."""
    return max((int(m) for m in _OIP_SHAPE.findall(body)), default=0)


def mlflow_rows(payload: Any) -> int:
    """How many rows an MLflow payload holds, counted without converting anything
    (0 when its shape is wrong: the decoder says what is wrong)."""
    if not isinstance(payload, dict):
        return 0
    for key in MLFLOW_KEYS:
        if key in payload:
            value = payload[key]
            break
    else:
        return 0
    if key == "dataframe_split":
        value = value.get("data") if isinstance(value, dict) else None
    if isinstance(value, list):
        return len(value)
    if isinstance(value, dict):  # columnar `inputs`: one list per column
        return max((len(v) if isinstance(v, list) else 1 for v in value.values()), default=0)
    return 0


def oip_rows(payload: Any) -> int:
    """How many rows an Open Inference Protocol request holds, read off its tensors'
    shapes and data lengths without converting anything."""
    tensors = payload.get("inputs") if isinstance(payload, dict) else None
    if not isinstance(tensors, list):
        return 0
    rows = 0
    for t in tensors:
        if not isinstance(t, dict):
            continue
        shape, data = t.get("shape"), t.get("data")
        if isinstance(shape, list) and shape and isinstance(shape[0], int):
            rows = max(rows, shape[0])
        if isinstance(data, list) and not (isinstance(shape, list) and len(shape) > 1):
            rows = max(rows, len(data))
    return rows


def too_many_columns(count: int, limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"the request has {count} columns, over this server's limit of {limit}",
        hint="send only the model's input columns (GET /openapi.json lists them)",
        details={"columns": count, "max_columns": limit},
    )


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


def _records_to_frame(records: Any, field: str, max_columns: int) -> pd.DataFrame:
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise _bad(f"'{field}' must be a list of objects", hint='e.g. [{"age": 31, "plan": "pro"}]')
    # Rows that each name other keys would make a frame of rows x all keys, mostly empty.
    names = set().union(*records)
    if len(names) > max_columns:
        raise too_many_columns(len(names), max_columns)
    return pd.DataFrame.from_records(records)


def decode_mlflow(
    payload: Any, columns: Sequence[str] | None, *, max_columns: int = MAX_COLUMNS
) -> pd.DataFrame:
    """A DataFrame from any of MLflow's four JSON input formats.

    `columns` (the model signature's input names) give position-only rows their names.
    A payload whose values cannot make a table (ragged columns, nested cells pandas
    refuses) is an `InvalidInputError`, never another exception.
    """
    try:
        return _decode_mlflow(payload, columns, max_columns)
    except InvalidInputError:  # PayloadTooLargeError included
        raise
    except (ValueError, TypeError) as exc:
        raise _bad(
            f"the rows cannot be read as a table: {_one_line(exc)}",
            hint="send one scalar value per column and row",
        ) from None


def _one_line(exc: BaseException, limit: int = 200) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _decode_mlflow(payload: Any, columns: Sequence[str] | None, max_columns: int) -> pd.DataFrame:
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
        if len(cols) > max_columns:
            raise too_many_columns(len(cols), max_columns)
        return _rows_to_frame(value["data"], cols, "dataframe_split.data")
    if key == "dataframe_records":
        return _records_to_frame(value, key, max_columns)
    if key == "inputs" and isinstance(value, dict):
        if len(value) > max_columns:
            raise too_many_columns(len(value), max_columns)
        lengths = {len(v) if isinstance(v, list) else 1 for v in value.values()}
        if len(lengths) > 1:
            raise _bad("'inputs' columns have different lengths", hint="one value per row each")
        return pd.DataFrame({k: v if isinstance(v, list) else [v] for k, v in value.items()})
    # instances / inputs as a list: of objects (records) or of positional rows
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return _records_to_frame(value, key, max_columns)
    if not columns:
        raise _bad(
            f"'{key}' rows have no column names and the model has no signature",
            hint="send dataframe_split with columns, or dataframe_records",
        )
    return _rows_to_frame(value, columns, key)


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
    "MAX_COLUMNS",
    "MAX_JSON_DEPTH",
    "MLFLOW_KEYS",
    "check_finite",
    "decode_mlflow",
    "encode_mlflow",
    "estimate_mlflow_rows",
    "estimate_oip_rows",
    "load_json",
    "mlflow_rows",
    "oip_rows",
    "parse_json",
    "scan_json",
    "too_many_columns",
]
