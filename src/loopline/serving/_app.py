"""The scoring ASGI app: MLflow's `/invocations`, Open Inference Protocol v2, `/metrics`.

Every request reads its model once from the router's slot, so hot swaps and traffic
changes never drop or mix an answer. Client mistakes become 4xx with the JSON error body
`{"error": {"code", "message", "details"}}`; only a failure of the model itself is a 5xx.
"""

from __future__ import annotations

import io
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route as HttpRoute
from starlette.types import Lifespan

from loopline._version import __version__
from loopline.errors import InvalidInputError, LooplineError
from loopline.serving._capture import PredictionCapture
from loopline.serving._codecs import (
    check_finite,
    decode_mlflow,
    decode_oip,
    encode_mlflow,
    encode_oip,
    parse_json,
)
from loopline.serving._fastpath import FastPlan, fast_frame, plan_for
from loopline.serving._health import ArmStats
from loopline.serving._metrics import ServingMetrics
from loopline.serving._middleware import CaptureMiddleware
from loopline.serving._openapi import openapi_document
from loopline.serving._router import Route, TrafficRouter
from loopline.serving._slot import Served

log = logging.getLogger("loopline.serving")
MAX_BODY_BYTES = 64 * 1024 * 1024


def error_response(
    exc: LooplineError, status: int | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(exc.to_dict(), status_code=status or exc.http_status, headers=headers)


class ScoringService:
    """What the routes call: decode, validate, score with the routed model, encode."""

    def __init__(
        self,
        model_name: str,
        router: TrafficRouter,
        metrics: ServingMetrics,
        capture: PredictionCapture | None,
        window_s: float = 10.0,
    ) -> None:
        self.model_name = model_name
        self.router = router  # replaced whole (atomically) when the deployment changes
        self.metrics = metrics
        self.capture = capture
        self.window_s = window_s
        self.stats: dict[str, ArmStats] = {}
        # Shadow scoring runs on its own thread and is dropped when that thread is busy,
        # so the challenger's latency never adds to the caller's.
        self._shadow_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shadow")
        self._shadow_slots = threading.BoundedSemaphore(64)
        self._plans: dict[int, FastPlan | None] = {}

    def arm_stats(self, arm: str) -> ArmStats:
        stats = self.stats.get(arm)
        if stats is None:
            stats = self.stats.setdefault(arm, ArmStats(self.window_s))
        return stats

    def shadow(self, route: Route, frame: pd.DataFrame, rid: str) -> None:
        if route.shadow is None or not self._shadow_slots.acquire(blocking=False):
            return
        slot = route.shadow

        def run() -> None:
            t0 = time.perf_counter()
            try:
                served, labels, proba = self.score(Route("shadow", slot), frame)
            except Exception:
                self.arm_stats("shadow").record(False, (time.perf_counter() - t0) * 1000)
                return
            finally:
                self._shadow_slots.release()
            latency = (time.perf_counter() - t0) * 1000
            self.arm_stats("shadow").record(True, latency, _score_of(labels, proba))
            if self.capture is not None:
                self.capture.offer(
                    (
                        rid,
                        time.time(),
                        self.model_name,
                        served.version.version,
                        "shadow",
                        latency,
                        frame,
                        labels.tolist(),
                        None if proba is None else proba.tolist(),
                    )
                )

        self._shadow_pool.submit(run)

    def served(self) -> Served:
        return self.router.route("").slot.current

    def score(
        self, route: Route, frame: pd.DataFrame, conformed: bool = False
    ) -> tuple[Served, np.ndarray[Any, Any], np.ndarray[Any, Any] | None]:
        """Score with the route's model; `frame` is checked against its signature unless
        the fast path already `conformed` it."""
        served = route.slot.current  # read once: a concurrent swap cannot mix versions
        if frame.empty:
            raise InvalidInputError("the request has no rows", hint="send at least one row")
        checked = frame
        if not conformed:
            signature = served.model.signature
            checked = signature.check(frame) if signature is not None else frame
            check_finite(checked)
        labels, proba = served.model.score(checked)
        route.slot.last_rows = checked.head(5)
        return served, labels, proba

    def _plan(self, served: Served) -> FastPlan | None:
        key = served.version.id
        if key not in self._plans:
            self._plans[key] = plan_for(served.model.signature)
        return self._plans[key]

    async def handle(self, request: Request, protocol: str) -> Response:
        t0 = time.perf_counter()
        rid = request.headers.get("x-request-id") or uuid.uuid4().hex
        route = self.router.route(request.headers.get("x-loopline-route-key") or rid)
        code = 200
        try:
            body = await request.body()
            if len(body) > MAX_BODY_BYTES:
                code = 413
                raise InvalidInputError(
                    f"the body is {len(body)} bytes, over the limit",
                    hint=f"send at most {MAX_BODY_BYTES} bytes per request",
                )
            frame, oip_id, conformed = self._decode(request, body, protocol, route)
            served, labels, proba = self.score(route, frame, conformed)
        except LooplineError as exc:
            code = code if code != 200 else exc.http_status if exc.http_status < 500 else 400
            self._count(protocol, route.arm, code, t0)
            return error_response(exc, code, {"x-request-id": rid, "x-loopline-arm": route.arm})
        except Exception as exc:  # the model itself failed: a server-side error, counted
            log.exception("model %s failed on request %s", self.model_name, rid)
            self._count(protocol, route.arm, 500, t0)
            self.arm_stats(route.arm).record(False, (time.perf_counter() - t0) * 1000)
            err = LooplineError(
                f"the model failed: {type(exc).__name__}: {exc}",
                hint="this is a model bug; the request was not scored",
            )
            return error_response(err, 500, {"x-request-id": rid, "x-loopline-arm": route.arm})
        if protocol == "oip":
            out = encode_oip(self.model_name, str(served.version.version), oip_id, labels, proba)
            predictions = out["outputs"][0]["data"]
        else:
            out = encode_mlflow(labels, proba)
            predictions = out["predictions"]
        latency = time.perf_counter() - t0
        self._count(protocol, route.arm, 200, t0)
        self.arm_stats(route.arm).record(True, latency * 1000, _score_of(labels, proba))
        self.metrics.rows.labels(route.arm).inc(len(labels))
        if self.capture is not None:
            # The frame goes to the writer thread as is: turning it into JSON happens there.
            request.state.capture = (
                rid, time.time(), self.model_name, served.version.version, route.arm,
                latency * 1000, frame, predictions, None if proba is None else proba.tolist(),
            )  # fmt: skip
        if route.shadow is not None:
            self.shadow(route, frame, rid)
        headers = {
            "x-request-id": rid,
            "x-loopline-model-version": str(served.version.version),
            "x-loopline-arm": route.arm,
        }
        return JSONResponse(out, headers=headers)

    def _decode(
        self, request: Request, body: bytes, protocol: str, route: Route
    ) -> tuple[pd.DataFrame, str | None, bool]:
        """(frame, OIP request id, already conformed?)."""
        served = route.slot.current
        signature = served.model.signature
        columns = signature.input_names if signature is not None else None
        if protocol == "oip":
            frame, oip_id = decode_oip(parse_json(body), columns)
            return frame, oip_id, False
        if request.headers.get("content-type", "").startswith("text/csv"):
            try:
                return pd.read_csv(io.BytesIO(body)), None, False
            except (ValueError, pd.errors.ParserError) as exc:
                raise InvalidInputError(
                    f"the CSV body cannot be read: {exc}",
                    hint="send a header row and one row per line",
                ) from None
        payload = parse_json(body)
        plan = self._plan(served)
        if plan is not None:
            fast = fast_frame(payload, plan)
            if fast is not None:
                return fast, None, True
        return decode_mlflow(payload, columns), None, False

    def _count(self, protocol: str, arm: str, code: int, t0: float) -> None:
        self.metrics.requests.labels(protocol, arm, str(code)).inc()
        self.metrics.latency.labels(protocol, arm).observe(time.perf_counter() - t0)


def _score_of(labels: np.ndarray[Any, Any], proba: np.ndarray[Any, Any] | None) -> float:
    """One number per request for distribution checks: mean positive-class probability for
    binary classifiers, mean prediction for regressors, NaN otherwise."""
    if proba is not None and proba.ndim == 2 and proba.shape[1] == 2:
        return float(proba[:, 1].mean())
    if labels.dtype.kind in "fiu":
        return float(labels.mean())
    return float("nan")


def create_app(service: ScoringService, lifespan: Lifespan[Starlette] | None = None) -> Starlette:
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
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)


__all__ = ["ScoringService", "create_app", "error_response"]
