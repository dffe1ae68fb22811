"""The scoring ASGI app: MLflow's `/invocations`, Open Inference Protocol v2, `/metrics`.

Every request reads its model once from the router's slot, so hot swaps and traffic
changes never drop or mix an answer. Client mistakes become 4xx with the JSON error body
`{"error": {"code", "message", "hint", "details"}}`; only a failure of the model itself is
a 5xx, and only that counts as an error in the per-arm stats a canary is judged on.

Reading and checking the request is `RequestReader`'s work (serving/_request.py, every
input bounded there); large bodies are decoded and scored on a worker thread.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from loopline.errors import LooplineError, NotFoundError, PayloadTooLargeError
from loopline.serving._batching import MicroBatcher, OverloadedError
from loopline.serving._capture import PredictionCapture
from loopline.serving._codecs import encode_mlflow
from loopline.serving._errors import error_response
from loopline.serving._health import ArmStats
from loopline.serving._metrics import ROUTES, ServingMetrics
from loopline.serving._oip import HEADER_LENGTH, OipRequest
from loopline.serving._oip_out import encode_oip_body
from loopline.serving._request import MAX_BODY_BYTES, MAX_ROWS, OFFLOAD_BYTES, RequestReader
from loopline.serving._router import Route, TrafficRouter
from loopline.serving._slot import Served

log = logging.getLogger("loopline.serving")


class ScoringService:
    """What the routes call: decode, validate, score with the routed model, encode."""

    def __init__(
        self,
        model_name: str,
        router: TrafficRouter,
        metrics: ServingMetrics,
        capture: PredictionCapture | None,
        window_s: float = 10.0,
        *,
        batcher: MicroBatcher | None = None,
        max_rows: int = MAX_ROWS,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.model_name = model_name
        self.reader = RequestReader(model_name, max_rows=max_rows, max_body_bytes=max_body_bytes)
        self.router = router  # replaced whole (atomically) when the deployment changes
        self.metrics = metrics
        self.capture = capture
        self.batcher = batcher  # adaptive micro-batching, opt-in (serving/_batching.py)
        self.window_s = window_s
        self.stats: dict[str, ArmStats] = {}
        # Shadow scoring runs on its own thread and is dropped when that thread is busy,
        # so the challenger's latency never adds to the caller's.
        self._shadow_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shadow")
        self._shadow_slots = threading.BoundedSemaphore(64)

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
            except LooplineError:  # the input does not fit the shadow's signature
                return
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
                        labels,
                        proba,
                    )
                )

        self._shadow_pool.submit(run)

    def served(self) -> Served:
        return self.router.route("").slot.current

    def served_versions(self) -> dict[str, Served]:
        """Every model version this server answers for, by version number (str)."""
        out: dict[str, Served] = {}
        for slot in self.router.arms().values():
            served = slot.current
            out.setdefault(str(served.version.version), served)
        return dict(sorted(out.items(), key=lambda kv: (len(kv[0]), kv[0])))

    def _pinned(self, route: Route, version: str) -> tuple[Route, Served]:
        """The route and model that answer for `version`: the routed arm when it serves
        it, else the arm that does; `NotFoundError` when no arm does."""
        served = route.slot.current
        if str(served.version.version) == version:
            return route, served
        for arm, slot in self.router.arms().items():
            served = slot.current  # read once: the version checked is the one scored
            if str(served.version.version) == version:
                return Route(arm, slot), served
        have = ", ".join(self.served_versions())
        raise NotFoundError(
            f"model {self.model_name!r} has no version {version!r} here",
            hint=f"this server serves version(s) {have}; "
            f"GET /v2/models/{self.model_name} lists them",
        )

    def score(
        self, route: Route, frame: pd.DataFrame, conformed: bool = False
    ) -> tuple[Served, np.ndarray[Any, Any], np.ndarray[Any, Any] | None]:
        """Score with the route's model; `frame` is checked against its signature unless
        the fast path already `conformed` it."""
        served = route.slot.current  # read once: a concurrent swap cannot mix versions
        checked = frame if conformed else self.reader.conform(served, frame)
        labels, proba = self._predict(route, served, checked)
        return served, labels, proba

    def _predict(
        self, route: Route, served: Served, checked: pd.DataFrame
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any] | None]:
        """The model's own work: the only step whose failure is the model's fault."""
        # Typed labels (int64 for int classes, not an object per row): the same JSON and
        # OIP bodies, and capture can copy them into its pages (serving/_capture_page.py).
        labels, proba = served.model.score(checked, typed_labels=True)
        route.slot.last_rows = checked.head(5)
        return labels, proba

    async def handle(self, request: Request, protocol: str, version: str | None = None) -> Response:
        """Score one request; `version` pins an OIP request to the arm serving it."""
        t0 = time.perf_counter()
        # (protocol, route template) label every count in /metrics: a pinned version's
        # requests are counted under the versioned route they came in on.
        matched = request.scope.get("route")
        where = (protocol, getattr(matched, "path", None) or ROUTES.get(protocol, ""))
        headers = request.headers
        rid = headers.get("x-request-id") or uuid.uuid4().hex
        route = self.router.route(headers.get("x-loopline-route-key") or rid)
        served = route.slot.current  # read once: a concurrent swap cannot mix versions
        if version is not None:  # pinned: the arm serving that version answers instead
            try:
                route, served = self._pinned(route, version)
            except NotFoundError as exc:
                return self._refuse(exc, where, route.arm, rid, t0)
        # 1. The client's part: read, decode and conform. Anything wrong here is a 4xx
        #    and never counts against the arm (else anyone could roll a canary back).
        try:
            body = await self.reader.read_body(request)
        except (PayloadTooLargeError, ClientDisconnect) as exc:
            return self._unread(exc, where, route.arm, rid, t0)
        offload = len(body) > OFFLOAD_BYTES
        content_type = headers.get("content-type", "")
        header_length = headers.get(HEADER_LENGTH)
        try:
            if offload:
                frame, checked, oip = await run_in_threadpool(
                    self.reader.prepare, content_type, body, protocol, served, header_length
                )
            else:
                frame, checked, oip = self.reader.prepare(
                    content_type, body, protocol, served, header_length
                )
        except LooplineError as exc:
            return self._refuse(exc, where, route.arm, rid, t0)
        # 2. The model's part: only its failure is a 5xx, counted for the arm.
        try:
            if self.batcher is not None and not offload:
                predict = functools.partial(self._predict, route, served)
                labels, proba = await self.batcher.score(served, predict, checked)
            elif offload:
                labels, proba = await run_in_threadpool(self._predict, route, served, checked)
            else:
                labels, proba = self._predict(route, served, checked)
        except OverloadedError as exc:  # saturated, not the model's fault: 503, not counted
            return self._refuse(exc, where, route.arm, rid, t0, {"retry-after": "1"})
        except LooplineError as exc:
            return self._refuse(exc, where, route.arm, rid, t0)
        except Exception as exc:  # the model itself failed: a server-side error, counted
            return self._model_failed(exc, where, route.arm, rid, t0)
        out_headers = {
            "x-request-id": rid,
            "x-loopline-model-version": str(served.version.version),
            "x-loopline-arm": route.arm,
        }
        if oip is not None:
            try:
                response = self._oip_response(served, oip, labels, proba, out_headers)
            except LooplineError as exc:  # an output the model does not produce
                return self._refuse(exc, where, route.arm, rid, t0)
        else:
            response = JSONResponse(encode_mlflow(labels, proba), headers=out_headers)
        latency = time.perf_counter() - t0
        self._count(where, route.arm, 200, t0)
        self.arm_stats(route.arm).record(True, latency * 1000, _score_of(labels, proba))
        self.metrics.rows.labels(route.arm).inc(len(labels))
        if self.capture is not None:
            # References only (frame, labels and proba arrays as scored): the writer thread
            # turns many requests at once into Arrow columns, off the request path.
            request.state.capture = (
                rid, time.time(), self.model_name, served.version.version, route.arm,
                latency * 1000, frame, labels, proba,
            )  # fmt: skip
        if route.shadow is not None:
            self.shadow(route, frame, rid)
        return response

    def _oip_response(
        self,
        served: Served,
        oip: OipRequest,
        labels: np.ndarray[Any, Any],
        proba: np.ndarray[Any, Any] | None,
        headers: dict[str, str],
    ) -> Response:
        signature = served.model.signature
        output = signature.output if signature is not None else None
        body, extra = encode_oip_body(
            self.model_name,
            str(served.version.version),
            oip.id,
            labels,
            proba,
            outputs=oip.outputs,
            binary_default=oip.binary_default,
            label_dtype=output.dtype if output is not None else None,
        )
        media_type = extra.pop("content-type")
        return Response(body, media_type=media_type, headers={**headers, **extra})

    def _refuse(
        self,
        exc: LooplineError,
        where: tuple[str, str],
        arm: str,
        rid: str,
        t0: float,
        extra: dict[str, str] | None = None,
    ) -> Response:
        """A 4xx for the client (or 503 when saturated), counted in /metrics by its code,
        never in the arm stats."""
        protocol = where[0]
        code = exc.http_status if exc.http_status < 500 or exc.http_status == 503 else 400
        if protocol == "mlflow" and code == 422:
            code = 400  # what MLflow clients expect, counted as answered
        self._count(where, arm, code, t0)
        return error_response(
            exc,
            code,
            {"x-request-id": rid, "x-loopline-arm": arm, **(extra or {})},
            protocol=protocol,
        )

    def _model_failed(
        self, exc: Exception, where: tuple[str, str], arm: str, rid: str, t0: float
    ) -> Response:
        """A 500: the model itself failed, so this one counts against the arm."""
        log.exception("model %s failed on request %s", self.model_name, rid)
        self._count(where, arm, 500, t0)
        self.arm_stats(arm).record(False, (time.perf_counter() - t0) * 1000)
        err = LooplineError(
            f"the model failed: {type(exc).__name__}: {exc}",
            hint="this is a model bug; the request was not scored",
        )
        headers = {"x-request-id": rid, "x-loopline-arm": arm}
        return error_response(err, 500, headers, protocol=where[0])

    def _unread(
        self,
        exc: PayloadTooLargeError | ClientDisconnect,
        where: tuple[str, str],
        arm: str,
        rid: str,
        t0: float,
    ) -> Response:
        """The body was not read: too large (413, and the connection closes since the rest
        of it is never read) or the client left (499, answered to nobody)."""
        if isinstance(exc, ClientDisconnect):
            self._count(where, arm, 499, t0)
            return Response(status_code=499)
        return self._refuse(exc, where, arm, rid, t0, {"connection": "close"})

    def _count(self, where: tuple[str, str], arm: str, code: int, t0: float) -> None:
        protocol, route = where
        self.metrics.observe_request(protocol, arm, code, time.perf_counter() - t0, route)


def _score_of(labels: np.ndarray[Any, Any], proba: np.ndarray[Any, Any] | None) -> float:
    """One number per request for distribution checks: mean positive-class probability for
    binary classifiers, mean prediction for regressors, NaN otherwise (a mean class label
    of a multi-class classifier means nothing)."""
    if proba is not None and proba.ndim == 2:
        return float(proba[:, 1].mean()) if proba.shape[1] == 2 else float("nan")
    if labels.dtype.kind in "fiu":
        return float(labels.mean())
    return float("nan")


__all__ = ["ScoringService"]
