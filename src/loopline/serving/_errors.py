"""Error bodies per protocol: the Open Inference Protocol's `{"error": "<message>"}`, and
Loopline's `{"error": {code, message, hint, details}}` everywhere else."""

from __future__ import annotations

from starlette.responses import JSONResponse

from loopline.errors import LooplineError
from loopline.serving._oip_out import error_body


def error_response(
    exc: LooplineError,
    status: int | None = None,
    headers: dict[str, str] | None = None,
    *,
    protocol: str = "mlflow",
) -> JSONResponse:
    """The error body of the route's protocol: the Open Inference Protocol's is
    `{"error": "<message>"}`, every other route's `{"error": {code, message, ...}}`."""
    body = error_body(exc.one_line()) if protocol == "oip" else exc.to_dict()
    return JSONResponse(body, status_code=status or exc.http_status, headers=headers)


__all__ = ["error_response"]
