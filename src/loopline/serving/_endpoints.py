"""The scoring app's HTTP routes: MLflow's scoring protocol (`/invocations`, `/ping`,
`/version`, as `mlflow models serve` has them), the Open Inference Protocol v2, health,
metrics and the OpenAPI document, over one `ScoringService`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route as HttpRoute
from starlette.types import Lifespan

from loopline._version import __version__
from loopline.errors import NotFoundError
from loopline.serving._app import ScoringService
from loopline.serving._errors import error_response
from loopline.serving._middleware import BearerAuthMiddleware, CaptureMiddleware
from loopline.serving._mlflow import REQUEST_NOTES, RequestNotes
from loopline.serving._oip_out import error_body, model_metadata
from loopline.serving._openapi import openapi_document
from loopline.serving._slot import Served

# A route's handler, as Starlette calls it.
Endpoint = Callable[[Request], Awaitable[Response]]


def create_app(
    service: ScoringService,
    lifespan: Lifespan[Starlette] | None = None,
    *,
    tokens: Sequence[str] = (),
) -> Starlette:
    """The scoring app; with `tokens`, every route but the health checks needs
    `Authorization: Bearer <one of them>`."""
    health = _health_endpoint(service)
    routes = [
        *_mlflow_routes(service, health),
        *_oip_routes(service, health),
        HttpRoute("/metrics", _metrics_endpoint(service), methods=["GET"]),
        HttpRoute("/openapi.json", _openapi_endpoint(service, bool(tokens)), methods=["GET"]),
    ]
    middleware = [Middleware(CaptureMiddleware, capture=service.capture)] if service.capture else []
    if tokens:  # outermost: a refused request costs nothing further
        middleware.insert(0, Middleware(BearerAuthMiddleware, tokens=list(tokens)))
    handlers = {404: _http_error, 405: _http_error}
    return Starlette(
        routes=routes, middleware=middleware, lifespan=lifespan, exception_handlers=handlers
    )


def _health_endpoint(service: ScoringService) -> Endpoint:
    """MLflow's `/ping` and `/health`, and OIP's liveness and readiness: one answer."""
    name = service.model_name

    async def health(request: Request) -> Response:
        v = service.served().version
        return JSONResponse({"status": "ok", "model": name, "version": v.version})

    return health


def _mlflow_routes(service: ScoringService, health: Endpoint) -> list[HttpRoute]:
    """MLflow's scoring protocol, as `mlflow models serve` has it."""

    async def invocations(request: Request) -> Response:
        notes = RequestNotes()  # the reader notes the columns it ignored here
        token = REQUEST_NOTES.set(notes)
        try:
            response = await service.handle(request, "mlflow")
        finally:
            REQUEST_NOTES.reset(token)
        if response.status_code == 200:
            response.headers.update(notes.headers())
        return response

    async def version(request: Request) -> Response:
        """The server's version as bare text, which `ScoringServerClient.get_version()`
        returns as is (MLflow answers its own version; this is Loopline's)."""
        return PlainTextResponse(__version__)

    return [
        HttpRoute("/invocations", invocations, methods=["POST"]),
        HttpRoute("/ping", health, methods=["GET"]),
        HttpRoute("/version", version, methods=["GET"]),
        HttpRoute("/health", health, methods=["GET"]),
    ]


def _oip_routes(service: ScoringService, health: Endpoint) -> list[HttpRoute]:
    """The Open Inference Protocol v2: server and model metadata, readiness, inference,
    each model route also under `/versions/{version}`."""
    name = service.model_name

    async def infer(request: Request) -> Response:
        refused = _unknown_model(service, request)
        if refused is not None:
            return refused
        return await service.handle(request, "oip", request.path_params.get("version"))

    async def model_ready(request: Request) -> Response:
        served = _pinned(service, request)
        if isinstance(served, Response):
            return served
        return JSONResponse({"name": name, "version": str(served.version.version), "ready": True})

    async def metadata(request: Request) -> Response:
        served = _pinned(service, request)
        if isinstance(served, Response):
            return served
        pinned_version = request.path_params.get("version")
        versions = [pinned_version] if pinned_version else list(service.served_versions())
        model = served.model
        return JSONResponse(model_metadata(name, versions, model.signature, model.flavor))

    async def server_meta(request: Request) -> Response:
        return JSONResponse(
            {"name": "loopline", "version": __version__, "extensions": ["binary_tensor_data"]}
        )

    return [
        HttpRoute("/v2", server_meta, methods=["GET"]),
        HttpRoute("/v2/health/live", health, methods=["GET"]),
        HttpRoute("/v2/health/ready", health, methods=["GET"]),
        HttpRoute("/v2/models/{name}", metadata, methods=["GET"]),
        HttpRoute("/v2/models/{name}/ready", model_ready, methods=["GET"]),
        HttpRoute("/v2/models/{name}/infer", infer, methods=["POST"]),
        HttpRoute("/v2/models/{name}/versions/{version}", metadata, methods=["GET"]),
        HttpRoute("/v2/models/{name}/versions/{version}/ready", model_ready, methods=["GET"]),
        HttpRoute("/v2/models/{name}/versions/{version}/infer", infer, methods=["POST"]),
    ]


def _unknown_model(service: ScoringService, request: Request) -> Response | None:
    """404 in the v2 error shape unless the route names the served model."""
    name, asked = service.model_name, request.path_params["name"]
    if asked == name:
        return None
    exc = NotFoundError(f"no model named {asked!r} here", hint=f"this server serves {name!r}")
    return error_response(exc, 404, protocol="oip")


def _pinned(service: ScoringService, request: Request) -> Served | Response:
    """The model the route names (and its version, when the route has one), else 404."""
    refused = _unknown_model(service, request)
    if refused is not None:
        return refused
    version = request.path_params.get("version")
    if version is None:
        return service.served()
    served = service.served_versions().get(version)
    if served is None:
        have = ", ".join(service.served_versions())
        exc = NotFoundError(
            f"model {service.model_name!r} has no version {version!r} here",
            hint=f"this server serves version(s) {have}",
        )
        return error_response(exc, 404, protocol="oip")
    return served


def _metrics_endpoint(service: ScoringService) -> Endpoint:
    async def metrics(request: Request) -> Response:
        body, media_type = service.metrics.exposition(request.headers.get("accept", ""))
        return Response(body, media_type=media_type)

    return metrics


def _openapi_endpoint(service: ScoringService, auth: bool) -> Endpoint:
    async def openapi(request: Request) -> Response:
        signature = service.served().model.signature
        versions = list(service.served_versions())
        name = service.model_name
        return JSONResponse(openapi_document(name, signature, versions=versions, auth=auth))

    return openapi


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods: the v2 error shape under /v2, Starlette's elsewhere."""
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if request.url.path.startswith("/v2"):
        text = f"{request.method} {request.url.path}: {exc.detail}"
        return JSONResponse(error_body(text), exc.status_code, headers=headers)
    return PlainTextResponse(exc.detail, exc.status_code, headers=headers)


__all__ = ["create_app"]
