"""The scoring app's HTTP routes: MLflow's scoring protocol, the Open Inference Protocol
v2, health, metrics and the OpenAPI document, over one `ScoringService`."""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route as HttpRoute
from starlette.types import Lifespan

from loopline._version import __version__
from loopline.errors import LooplineError
from loopline.serving._app import ScoringService, error_response
from loopline.serving._middleware import BearerAuthMiddleware, CaptureMiddleware
from loopline.serving._openapi import openapi_document


def create_app(
    service: ScoringService,
    lifespan: Lifespan[Starlette] | None = None,
    *,
    tokens: Sequence[str] = (),
) -> Starlette:
    """The scoring app; with `tokens`, every route but the health checks needs
    `Authorization: Bearer <one of them>`."""
    name = service.model_name

    async def invocations(request: Request) -> Response:
        return await service.handle(request, "mlflow")

    async def infer(request: Request) -> Response:
        if request.path_params["name"] != name:
            return error_response(
                LooplineError(
                    f"no model named {request.path_params['name']!r} here",
                    hint=f"this server serves {name!r}",
                ),
                404,
            )
        return await service.handle(request, "oip")

    async def health(request: Request) -> Response:
        v = service.served().version
        return JSONResponse({"status": "ok", "model": name, "version": v.version})

    async def model_metadata(request: Request) -> Response:
        if request.path_params["name"] != name:
            return error_response(
                LooplineError(
                    f"no model named {request.path_params['name']!r}",
                    hint=f"this server serves {name!r}",
                ),
                404,
            )
        served = service.served()
        sig = served.model.signature
        inputs = [
            {"name": c.name, "datatype": c.dtype, "shape": [-1]}
            for c in (sig.inputs if sig else ())
        ]
        return JSONResponse(
            {
                "name": name,
                "versions": [str(served.version.version)],
                "platform": f"loopline-{served.model.flavor}",
                "inputs": inputs,
                "outputs": [{"name": "predict", "datatype": "BYTES", "shape": [-1]}],
            }
        )

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(service.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_document(name, service.served().model.signature))

    async def server_meta(request: Request) -> Response:
        return JSONResponse({"name": "loopline", "version": __version__, "extensions": []})

    routes = [
        HttpRoute("/invocations", invocations, methods=["POST"]),
        HttpRoute("/ping", health, methods=["GET"]),
        HttpRoute("/health", health, methods=["GET"]),
        HttpRoute("/v2", server_meta, methods=["GET"]),
        HttpRoute("/v2/health/live", health, methods=["GET"]),
        HttpRoute("/v2/health/ready", health, methods=["GET"]),
        HttpRoute("/v2/models/{name}", model_metadata, methods=["GET"]),
        HttpRoute("/v2/models/{name}/ready", health, methods=["GET"]),
        HttpRoute("/v2/models/{name}/infer", infer, methods=["POST"]),
        HttpRoute("/v2/models/{name}/versions/{version}/infer", infer, methods=["POST"]),
        HttpRoute("/metrics", metrics, methods=["GET"]),
        HttpRoute("/openapi.json", openapi, methods=["GET"]),
    ]
    middleware = [Middleware(CaptureMiddleware, capture=service.capture)] if service.capture else []
    if tokens:  # outermost: a refused request costs nothing further
        middleware.insert(0, Middleware(BearerAuthMiddleware, tokens=list(tokens)))
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)


__all__ = ["create_app"]
