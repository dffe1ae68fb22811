"""Error bodies per protocol: MLflow's `{"error_code", "message", ...}` on `/invocations`,
the Open Inference Protocol's `{"error": "<message>"}`, and Loopline's
`{"error": {code, message, hint, details}}` everywhere else."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from loopline.errors import LooplineError
from loopline.serving._mlflow import mlflow_error_body
from loopline.serving._oip_out import error_body


def protocol_of(path: str) -> str:
    """Which protocol's error body a path answers with."""
    if path == "/invocations":
        return "mlflow"
    return "oip" if path == "/v2" or path.startswith("/v2/") else "loopline"


def error_body_of(exc: LooplineError, status: int, protocol: str) -> dict[str, Any]:
    """The body `error_response` sends, for callers below Starlette (ASGI middleware)."""
    if protocol == "mlflow":
        return mlflow_error_body(exc, status)
    if protocol == "oip":
        return error_body(exc.one_line())
    return exc.to_dict()


def error_response(
    exc: LooplineError,
    status: int | None = None,
    headers: dict[str, str] | None = None,
    *,
    protocol: str = "loopline",
) -> JSONResponse:
    """The error body of the route's protocol: `"mlflow"` (400 where Loopline says 422,
    as MLflow clients expect), `"oip"`, or Loopline's own."""
    code = status or exc.http_status
    if protocol == "mlflow" and code == 422:
        code = 400
    return JSONResponse(error_body_of(exc, code, protocol), status_code=code, headers=headers)


__all__ = ["error_body_of", "error_response", "protocol_of"]
