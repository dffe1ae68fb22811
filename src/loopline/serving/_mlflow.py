"""What `/invocations` shares with `mlflow models serve`, beyond the JSON codecs: the
content types it accepts, its error body, Parquet bodies, and the note of extra columns
that were ignored.

MLflow's scoring server (mlflow/pyfunc/scoring_server/__init__.py) answers a bad payload
with 400 `{"error_code": "BAD_REQUEST", "message": ...}`; we add our `code`, `hint` and
`details` as further fields, so an MLflow client and a Loopline one both find theirs.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from loopline.errors import InvalidInputError, LooplineError

CSV = "text/csv"
JSON = "application/json"
PARQUET = "application/vnd.apache.parquet"  # the one Parquet type MLflow 3 accepts
ACCEPTED = (JSON, CSV, PARQUET)
IGNORED_HEADER = "x-loopline-ignored-columns"
IGNORED_COUNT_HEADER = "x-loopline-ignored-columns-count"
_MAX_NAMED = 50  # names listed in the header; the count header always has them all


class UnsupportedMediaTypeError(InvalidInputError):
    """The body's content type is not one `/invocations` reads."""

    code = "unsupported_media_type"
    http_status = 415


def media_type(content_type: str | None) -> str:
    """The body's media type (one of `ACCEPTED`), or `UnsupportedMediaTypeError`.

    As MLflow: only a `charset` parameter is allowed and it must be UTF-8 (any other
    parameter, such as MLflow 1's `format=pandas-split`, marks an outdated client).
    Unlike MLflow, type names are compared case-insensitively (RFC 9110 says they are);
    an absent type is a 415 where MLflow fails with a bare 500.
    """
    accepted = ", ".join(ACCEPTED)
    details: dict[str, Any] = {"accepted": list(ACCEPTED), "content_type": content_type or None}
    if not content_type or not content_type.strip():
        raise UnsupportedMediaTypeError(
            "the request has no Content-Type header",
            hint=f"send Content-Type: one of {accepted}",
            details=details,
        )
    mime, *params = (part.strip() for part in content_type.split(";"))
    mime = mime.lower()
    if mime not in ACCEPTED:
        raise UnsupportedMediaTypeError(
            f"Content-Type {mime!r} is not one this server reads",
            hint=f"send Content-Type: one of {accepted}",
            details=details,
        )
    for param in params:
        key, _, value = param.partition("=")
        key, value = key.strip().lower(), value.strip().strip('"').lower()
        if key == "charset" and value != "utf-8":
            raise UnsupportedMediaTypeError(
                f"charset {value!r} is not supported",
                hint="encode the body as UTF-8 (charset=utf-8) or leave the charset out",
                details=details,
            )
        if key != "charset":
            raise UnsupportedMediaTypeError(
                f"Content-Type parameter {key!r} is not supported",
                hint=f"send a bare media type ({accepted}), optionally with charset=utf-8; "
                "MLflow 1's format= parameter is gone: use the MLflow 2 JSON keys",
                details=details,
            )
    return mime


def as_bad_request(exc: LooplineError) -> LooplineError:
    """The error as `/invocations` answers it: MLflow clients expect 400 where the rest of
    Loopline says 422; 413 and 415 keep their own status."""
    if exc.http_status == 422:
        exc.http_status = 400
    return exc


def error_code(status: int) -> str:
    """MLflow's `error_code` for an HTTP status (names from its databricks_pb2.ErrorCode,
    as `mlflow.exceptions.ERROR_CODE_TO_HTTP_STATUS` maps them back)."""
    if status == 503:
        return "TEMPORARILY_UNAVAILABLE"
    if status >= 500:
        return "INTERNAL_ERROR"
    named = {401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 429: "REQUEST_LIMIT_EXCEEDED"}
    if status in named:
        return named[status]
    # A too-large or wrongly typed body is the client's to fix, as a malformed one is:
    # MLflow has no closer code (RESOURCE_EXHAUSTED would say "retry later", as a 429).
    return "BAD_REQUEST"


def mlflow_error_body(exc: LooplineError, status: int) -> dict[str, Any]:
    """MLflow's error body, with Loopline's code, hint and details as further fields."""
    return {
        "error_code": error_code(status),
        "message": exc.one_line(),
        "code": exc.code,
        "hint": exc.hint,
        "details": exc.details,
    }


@dataclass(frozen=True)
class ParquetFooter:
    """What a Parquet body's footer declares, read before any of its data."""

    rows: int
    columns: int
    unpacked_bytes: int  # uncompressed size of all row groups


def parquet_footer(body: bytes) -> ParquetFooter:
    """The footer of a Parquet body, so rows, columns and the uncompressed size can be
    bounded before the data is read (compression would let a small body unpack into far
    more than the body limit allows)."""
    try:
        meta = pq.ParquetFile(io.BytesIO(body)).metadata
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise _unreadable(exc) from None
    unpacked = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    return ParquetFooter(meta.num_rows, meta.num_columns, unpacked)


def read_parquet(body: bytes) -> pd.DataFrame:
    """A Parquet body as a DataFrame; bound it with `parquet_footer` first."""
    try:
        frame: pd.DataFrame = pq.read_table(io.BytesIO(body)).to_pandas()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise _unreadable(exc) from None
    return frame


def _unreadable(exc: Exception) -> InvalidInputError:
    text = " ".join(str(exc).split())[:200]
    return InvalidInputError(
        f"the Parquet body cannot be read: {text}",
        hint="send a DataFrame written with pandas.DataFrame.to_parquet()",
    )


@dataclass
class RequestNotes:
    """What reading one `/invocations` request noted for its response headers."""

    ignored_columns: list[str] = field(default_factory=list)

    def headers(self) -> dict[str, str]:
        """`x-loopline-ignored-columns: a,b` (names percent-encoded, so a comma or a
        non-ASCII letter in a name cannot break the list; at most 50 named) and the count."""
        if not self.ignored_columns:
            return {}
        named = [quote(name, safe="") for name in self.ignored_columns[:_MAX_NAMED]]
        return {
            IGNORED_HEADER: ",".join(named),
            IGNORED_COUNT_HEADER: str(len(self.ignored_columns)),
        }


# The route sets a fresh `RequestNotes` per request and the reader fills it in. A mutable
# holder (not a value set by the reader) because large bodies are read on a worker
# thread, whose copy of the context would not carry a new value back.
REQUEST_NOTES: ContextVar[RequestNotes | None] = ContextVar("loopline_request_notes", default=None)


__all__ = [
    "ACCEPTED",
    "CSV",
    "IGNORED_COUNT_HEADER",
    "IGNORED_HEADER",
    "JSON",
    "PARQUET",
    "REQUEST_NOTES",
    "ParquetFooter",
    "RequestNotes",
    "UnsupportedMediaTypeError",
    "as_bad_request",
    "error_code",
    "media_type",
    "mlflow_error_body",
    "parquet_footer",
    "read_parquet",
]
