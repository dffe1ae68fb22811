"""Error bodies per protocol: MLflow's `{"error_code", "message", ...}` on `/invocations`,
the Open Inference Protocol's `{"error": "<message>"}`, and Loopline's
`{"error": {code, message, hint, details}}` everywhere else."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from loopline.errors import LooplineError
from loopline.serving._mlflow import mlflow_error_body
from loopline.serving._oip_out import error_body


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
    body: dict[str, Any]
    if protocol == "mlflow":
        code = 400 if code == 422 else code
        body = mlflow_error_body(exc, code)
    elif protocol == "oip":
        body = error_body(exc.one_line())
    else:
        body = exc.to_dict()
    return JSONResponse(body, status_code=code, headers=headers)


__all__ = ["error_response"]
