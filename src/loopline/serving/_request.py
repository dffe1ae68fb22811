"""Reading a scoring request: the body (bounded), decoded by protocol and content type,
then conformed to the served model's signature.

Everything that goes wrong here is the client's doing and comes out as a `LooplineError`
with a 4xx status (400 on `/invocations`, as MLflow clients expect; 415 for a content type
it does not read); nothing here runs the model. Columns the signature does not list are
ignored on `/invocations`, as `mlflow models serve` does, and noted for a response header.

Every input is bounded before it costs much (issue 15): the body by its declared length
and then by counting chunks as they arrive (`max_body_bytes`), JSON nesting on the raw
bytes, rows before any DataFrame is built (`max_rows`), and distinct columns; a Parquet
body by its footer (rows, columns, uncompressed size) before its data is read.
"""

from __future__ import annotations

import io
import logging

import pandas as pd
from starlette.requests import Request

from loopline.errors import InvalidInputError, LooplineError, PayloadTooLargeError
from loopline.serving._codecs import (
    MAX_COLUMNS,
    MAX_JSON_DEPTH,
    check_finite,
    decode_mlflow,
    estimate_mlflow_rows,
    estimate_oip_rows,
    load_json,
    mlflow_rows,
    oip_rows,
    scan_json,
    too_many_columns,
)
from loopline.serving._fastpath import FastPlan, fast_frame, plan_for
from loopline.serving._mlflow import (
    CSV,
    PARQUET,
    REQUEST_NOTES,
    as_bad_request,
    media_type,
    parquet_footer,
    read_parquet,
)
from loopline.serving._oip import OipRequest, decode_oip_request, split_body
from loopline.serving._slot import Served

log = logging.getLogger("loopline.serving")
MAX_BODY_BYTES = 64 * 1024 * 1024
MAX_ROWS = 10_000  # default of LOOPLINE_SERVE_MAX_ROWS
# Bodies larger than this are decoded and scored on a worker thread, and their rows are
# estimated from the raw bytes before the JSON is parsed (json.loads holds the GIL).
OFFLOAD_BYTES = 256 * 1024


class RequestReader:
    """Reads, decodes and conforms requests for one served model name."""

    def __init__(
        self, model_name: str, *, max_rows: int = MAX_ROWS, max_body_bytes: int = MAX_BODY_BYTES
    ) -> None:
        self.model_name = model_name
        self.max_rows = max_rows
        self.max_body_bytes = max_body_bytes
        self._plans: dict[int, FastPlan | None] = {}

    def conform(
        self, served: Served, frame: pd.DataFrame, *, allow_extra: bool = False
    ) -> pd.DataFrame:
        """`frame` checked against the signature; columns it does not list are dropped
        with `allow_extra`, else refused."""
        if frame.empty:
            raise InvalidInputError("the request has no rows", hint="send at least one row")
        signature = served.model.signature
        checked = frame
        if signature is not None:
            checked = signature.check(frame, allow_extra=allow_extra)
        check_finite(checked)
        return checked

    @staticmethod
    def _ignore_extra(served: Served, frame: pd.DataFrame) -> pd.DataFrame:
        """`frame` without the columns the signature does not list, which are noted for
        the response's `x-loopline-ignored-columns` header (and kept out of capture)."""
        signature = served.model.signature
        if signature is None:
            return frame
        wanted = set(signature.input_names)
        extra = [c for c in frame.columns if c not in wanted]
        if not extra:
            return frame
        notes = REQUEST_NOTES.get()
        if notes is not None:
            notes.ignored_columns = [str(c) for c in extra]
        return frame.drop(columns=extra)

    def _plan(self, served: Served) -> FastPlan | None:
        key = served.version.id
        if key not in self._plans:
            self._plans[key] = plan_for(served.model.signature)
        return self._plans[key]

    async def read_body(self, request: Request) -> bytes:
        """The body, refused (413) by its declared length before any of it is read, and
        by counting the chunks as they arrive when there is no length (chunked)."""
        limit = self.max_body_bytes
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            raise self._too_big(int(length))
        chunks = []
        seen = 0
        async for chunk in request.stream():
            seen += len(chunk)
            if seen > limit:
                raise self._too_big(None)
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_big(self, length: int | None) -> PayloadTooLargeError:
        mib = f"{self.max_body_bytes / 2**20:g} MiB"
        declared = f" (it declares {length} bytes)" if length is not None else ""
        return PayloadTooLargeError(
            f"the request body is over this server's {mib} limit{declared}",
            hint=f"send at most {mib} per request (fewer rows per request), or score large "
            "data with `loopline score` (batch scoring)",
            details={"max_bytes": self.max_body_bytes},
        )

    def _check_rows(self, rows: int) -> None:
        if rows > self.max_rows:
            raise PayloadTooLargeError(
                f"the request has {rows} rows, over this server's limit of {self.max_rows} "
                "rows per request",
                hint=f"send at most {self.max_rows} rows per request, raise the limit with "
                "LOOPLINE_SERVE_MAX_ROWS on the server, or score large data with "
                "`loopline score` (batch scoring)",
                details={"rows": rows, "max_rows": self.max_rows},
            )

    def prepare(
        self,
        content_type: str,
        body: bytes,
        protocol: str,
        served: Served,
        header_length: str | None = None,
    ) -> tuple[pd.DataFrame, pd.DataFrame, OipRequest | None]:
        """(decoded frame, frame conformed to the signature, the OIP request). Whatever
        goes wrong here is the request's fault and comes out as an `InvalidInputError`
        (or a 413/415 `LooplineError`), with status 400 rather than 422 on `/invocations`."""
        try:
            return self._prepare(content_type, body, protocol, served, header_length)
        except LooplineError as exc:
            if protocol == "mlflow":
                as_bad_request(exc)
            raise

    def _prepare(
        self,
        content_type: str,
        body: bytes,
        protocol: str,
        served: Served,
        header_length: str | None,
    ) -> tuple[pd.DataFrame, pd.DataFrame, OipRequest | None]:
        try:
            if protocol == "oip":
                oip = self._decode_oip(body, header_length, served)
                return oip.frame, self.conform(served, oip.frame), oip
            frame, _, conformed = self._decode(content_type, body, protocol, served)
            if conformed:
                return frame, frame, None
            checked = self.conform(served, frame, allow_extra=True)
            return self._ignore_extra(served, frame), checked, None
        except LooplineError:
            raise
        except RecursionError:
            raise InvalidInputError(
                "the request is nested too deeply to read",
                hint="send one scalar value per column and row",
            ) from None
        except Exception as exc:  # pandas/numpy refusing odd values: the client's doing
            log.debug("request not convertible for %s", self.model_name, exc_info=True)
            text = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
            raise InvalidInputError(
                f"the request cannot be turned into the model's input: {text}",
                hint="send one value of the column's type per column and row "
                "(GET /openapi.json lists the columns)",
            ) from None

    def _decode(
        self, content_type: str, body: bytes, protocol: str, served: Served
    ) -> tuple[pd.DataFrame, str | None, bool]:
        """(frame, OIP request id, already conformed?). Rows are counted before any
        DataFrame is built; for large bodies, estimated before the JSON is even parsed."""
        signature = served.model.signature
        columns = signature.input_names if signature is not None else None
        max_columns = max(MAX_COLUMNS, len(columns or ()))
        mime = media_type(content_type)
        if mime == CSV:
            return self._read_csv(body, max_columns), None, False
        if mime == PARQUET:
            return self._read_parquet(body, max_columns), None, False
        openings = scan_json(body, MAX_JSON_DEPTH)
        if len(body) > OFFLOAD_BYTES:
            self._check_rows(estimate_mlflow_rows(body, openings))
        payload = load_json(body, MAX_JSON_DEPTH)
        self._check_rows(mlflow_rows(payload))
        plan = self._plan(served)
        if plan is not None:
            fast = fast_frame(payload, plan)
            if fast is not None:
                return fast, None, True
        return decode_mlflow(payload, columns, max_columns=max_columns), None, False

    def _decode_oip(self, body: bytes, header_length: str | None, served: Served) -> OipRequest:
        """An OIP request: the JSON header (bounded like any JSON body), then its tensors,
        from JSON data or the binary section after the header."""
        signature = served.model.signature
        columns = signature.input_names if signature is not None else None
        header, binary = split_body(body, header_length)
        scan_json(header, MAX_JSON_DEPTH)
        if len(header) > OFFLOAD_BYTES:
            self._check_rows(estimate_oip_rows(header))
        payload = load_json(header, MAX_JSON_DEPTH)
        self._check_rows(oip_rows(payload))
        max_columns = max(MAX_COLUMNS, len(columns or ()))
        return decode_oip_request(payload, columns, binary=binary, max_columns=max_columns)

    def _read_csv(self, body: bytes, max_columns: int) -> pd.DataFrame:
        end = body.find(b"\n")
        header = body if end < 0 else body[:end]
        if header.count(b",") + 1 > max_columns:
            raise too_many_columns(header.count(b",") + 1, max_columns)
        try:
            frame = pd.read_csv(io.BytesIO(body), nrows=self.max_rows + 1)
        except (ValueError, pd.errors.ParserError) as exc:
            raise InvalidInputError(
                f"the CSV body cannot be read: {' '.join(str(exc).split())[:200]}",
                hint="send a header row and one row per line",
            ) from None
        if len(frame) > self.max_rows:  # read no further: count the lines instead
            self._check_rows(max(len(frame), body.count(b"\n") - 1 + (not body.endswith(b"\n"))))
        return frame

    def _read_parquet(self, body: bytes, max_columns: int) -> pd.DataFrame:
        """A Parquet body, bounded by its footer before any data is read: the columns
        and rows as any other body, and what it unpacks to by the body limit (the same
        data as CSV or JSON would be at least that large)."""
        footer = parquet_footer(body)
        if footer.columns > max_columns:
            raise too_many_columns(footer.columns, max_columns)
        self._check_rows(footer.rows)
        if footer.unpacked_bytes > self.max_body_bytes:
            mib = f"{self.max_body_bytes / 2**20:g} MiB"
            raise PayloadTooLargeError(
                f"the Parquet body unpacks to {footer.unpacked_bytes} bytes, over this "
                f"server's {mib} limit",
                hint=f"send at most {mib} of data per request (fewer rows per request), or "
                "score large data with `loopline score` (batch scoring)",
                details={"unpacked_bytes": footer.unpacked_bytes, "max_bytes": self.max_body_bytes},
            )
        return read_parquet(body)


__all__ = ["MAX_BODY_BYTES", "MAX_ROWS", "OFFLOAD_BYTES", "RequestReader"]
