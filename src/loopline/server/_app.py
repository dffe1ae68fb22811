"""`loopline server`: one FastAPI app with the REST API under `/api/v1`.

The app holds no state of its own beyond the rate limiter's (bounded) buckets: everything lives in
the metadata and artifact stores, so replicas behind a load balancer are interchangeable.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import sqlalchemy.exc as sa_exc
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

import loopline
from loopline.config import Settings, load_settings
from loopline.errors import ConfigError, ConflictError, InvalidInputError, LooplineError
from loopline.identity import authorize, current_principal
from loopline.server._artifact_routes import artifact_router
from loopline.server._middleware import (
    AuthMiddleware,
    BodyLimitMiddleware,
    RateLimiter,
    RateLimitMiddleware,
)
from loopline.server._store_routes import store_router
from loopline.server.ui import mount_ui
from loopline.store import MetadataStore, open_artifact_store, open_metadata_store

log = logging.getLogger("loopline.server")


def _validation_message(exc: RequestValidationError) -> str:
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    return f"{where}: {first.get('msg', 'invalid request')}"


def _ops_router(store: Any) -> APIRouter:
    router = APIRouter()

    @router.get("/health", tags=["server"], summary="liveness (no token needed)")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": loopline.__version__}

    @router.get("/me", tags=["server"], summary="who the token belongs to")
    def me() -> dict[str, Any]:
        p = current_principal()
        return {"name": p.name, "role": p.role, "team": p.team} if p else {}

    @router.get("/audit/verify", tags=["audit"], summary="verify the hash chain")
    def audit_verify() -> dict[str, Any]:
        from dataclasses import asdict

        from loopline.ops.audit import verify_audit

        authorize("read")
        return asdict(verify_audit(store()))

    @router.get("/audit/export", tags=["audit"], summary="the audit log as JSON Lines")
    def audit_export() -> StreamingResponse:
        import json
        from dataclasses import asdict

        authorize("read")
        events = store().list_audit_events()

        def lines() -> Iterator[str]:
            for e in events:
                yield json.dumps(asdict(e), sort_keys=True, default=str) + "\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    @router.get("/dora", tags=["dora"], summary="the four keys and model health")
    def dora(days: float = Query(90.0, gt=0, le=3650), model: str | None = None) -> dict[str, Any]:
        from loopline.ops.dora import dora_report

        authorize("read")
        return dora_report(store(), since_s=days * 86400, model=model).as_dict()

    return router


def create_app(settings: Settings | None = None) -> FastAPI:
    """The team server's ASGI app over the stores the settings name."""
    settings = settings or load_settings()
    if settings.url:
        raise ConfigError(
            "the server cannot itself run in remote mode (LOOPLINE_URL is set)",
            hint="unset LOOPLINE_URL where `loopline server` runs",
        )

    def store() -> MetadataStore:
        return open_metadata_store(settings)

    def artifacts() -> Any:
        return open_artifact_store(settings)

    store()  # open (and migrate) now: a bad database fails at start, not on the first call
    app = FastAPI(
        title="Loopline",
        version=loopline.__version__,
        description="The model lifecycle loop: tracking, registry, gates, deployments, "
        "monitoring, audit. Authenticate with `Authorization: Bearer <token>`.",
    )
    _add_error_handlers(app)
    app.include_router(_ops_router(store), prefix="/api/v1")
    app.include_router(store_router(store), prefix="/api/v1")
    app.include_router(artifact_router(artifacts), prefix="/api/v1")
    mount_ui(app, store, capture_dir=settings.home / "capture", artifacts=artifacts)
    _add_middleware(app, settings, store)
    return app


def _add_error_handlers(app: FastAPI) -> None:
    """Every error answers in one JSON shape, `{"error": {"code", "message", ...}}`."""

    @app.exception_handler(LooplineError)
    async def loopline_error(request: Request, exc: LooplineError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=exc.http_status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        error = InvalidInputError(_validation_message(exc), hint="see /openapi.json")
        return JSONResponse(error.to_dict(), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Unknown paths and wrong methods get the same JSON error body as everything else.
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        body = {
            "error": {
                "code": code,
                "message": f"{request.method} {request.url.path}: {exc.detail}",
                "hint": "see /openapi.json",
                "details": {},
            }
        }
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(OverflowError)
    async def overflow(request: Request, exc: OverflowError) -> JSONResponse:
        error = InvalidInputError(
            "a number in the request is out of range", hint="integers must fit in 64 bits"
        )
        return JSONResponse(error.to_dict(), status_code=422)

    @app.exception_handler(sa_exc.IntegrityError)
    async def integrity(request: Request, exc: sa_exc.IntegrityError) -> JSONResponse:
        # The database refused the write as a whole (its transaction rolled back).
        error = ConflictError(
            "the request references something that does not exist or duplicates something "
            "that does",
            hint="check the ids in the request",
        )
        return JSONResponse(error.to_dict(), status_code=409)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        body = {"error": {"code": "internal", "message": "internal error; see the server log"}}
        return JSONResponse(body, status_code=500)


def _add_middleware(app: FastAPI, settings: Settings, store: Any) -> None:
    # Added innermost first (each add wraps the app so far): the body limit and JSON guard,
    # then identity, then — outermost — the rate limit by client address, so a flood is
    # refused before any token lookup or body read.
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=int(settings.max_request_mb * 2**20),
        max_artifact_bytes=int(settings.max_artifact_mb * 2**20),
    )
    app.add_middleware(AuthMiddleware, resolve=_resolver(store))
    limiter = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
    app.state.rate_limiter = limiter  # one table per app, bounded (see RateLimiter)
    app.add_middleware(RateLimitMiddleware, limiter=limiter)


def _resolver(store: Any) -> Any:
    from loopline.ops._tokens import authenticate

    def resolve(token: str | None) -> Any:
        return authenticate(token, store())

    return resolve


def run_server(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the team API until interrupted."""
    import uvicorn

    from loopline.serving._server import check_port

    check_port(host, port)
    app = create_app()
    uvicorn.run(app, host=host, port=port, log_level="warning")


__all__ = ["create_app", "run_server"]
