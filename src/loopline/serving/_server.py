"""Building a scoring server from a model URI, and running it under uvicorn.

Everything that can be wrong (the URI, the alias, the artifact's hash, the port) is
checked before uvicorn starts, so a bad start-up is one clear line and exit code 2, not
a server that hangs or fails on its first request.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import logging
import os
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from loopline.config import current_user, load_settings
from loopline.errors import ConfigError, LooplineError
from loopline.registry import parse_model_uri
from loopline.serving._app import ScoringService
from loopline.serving._batching import MicroBatcher
from loopline.serving._capture import PredictionCapture
from loopline.serving._endpoints import create_app
from loopline.serving._metrics import MULTIPROC_ENV, ServingMetrics
from loopline.serving._middleware import read_token_file
from loopline.serving._rollout import RolloutFollower
from loopline.serving._router import SingleRouter
from loopline.serving._slot import AliasWatcher, ModelSlot, Served, load_served
from loopline.store import AlertSink, ModelVersion, open_metadata_store

log = logging.getLogger("loopline.serving")
_URI_ENV = "LOOPLINE_SERVE_URI"
_CAPTURE_ENV = "LOOPLINE_SERVE_CAPTURE"
_TOKEN_FILE_ENV = "LOOPLINE_SERVE_TOKEN_FILE"  # the setting `serve_token_file`


def _record_swap_failure(version: ModelVersion, exc: Exception) -> None:
    open_metadata_store().report_swap_failure(
        version.model,
        version.version,
        error=f"{type(exc).__name__}: {exc}"[:2000],
        actor=current_user(),
    )


@dataclass
class ServingRuntime:
    """A scoring service and the background parts that keep it current."""

    service: ScoringService
    watchers: list[AliasWatcher]
    rollout: RolloutFollower

    def start(self) -> None:
        # Everything loaded so far (libraries, the model) lives as long as the server: move
        # it out of the cyclic collector's reach. Otherwise each full collection walks ~200k
        # objects, a 60-100 ms pause of the event loop that showed as the p99 of every load.
        gc.collect()
        gc.freeze()
        for w in self.watchers:
            w.start()
        self.rollout.start()
        self.service.metrics.start()

    def stop(self) -> None:
        for w in self.watchers:
            w.stop()
        self.rollout.stop()
        if self.service.capture is not None:
            self.service.capture.close()
        if self.service.batcher is not None:
            self.service.batcher.close()
        self.service.metrics.stop()  # after the capture's last write, so the count is final


def build_service(
    uri: str,
    *,
    capture: bool = True,
    poll_s: float = 1.0,
    retry_s: float = 1.0,
    retry_max_s: float = 60.0,
    alert_sinks: Sequence[AlertSink] = (),
) -> ServingRuntime:
    """A ready scoring service for `uri` (loaded and verified), its alias watcher and the
    follower of its deployment record.

    The watcher reconciles the served model with the registry every `poll_s` seconds; a
    failed swap is retried after `retry_s`, doubling up to `retry_max_s`. An automatic
    canary rollback is notified through the model's alert sinks and `alert_sinks`."""
    ref = parse_model_uri(uri)
    served = load_served(uri)
    slot = ModelSlot(uri, served)
    metrics = ServingMetrics()
    settings = load_settings()
    if settings.serve_max_rows < 1:
        raise ConfigError(
            f"LOOPLINE_SERVE_MAX_ROWS={settings.serve_max_rows} must be at least 1",
            hint="set it to the most rows one request may hold, e.g. 10000",
        )
    recorder = PredictionCapture(settings.home / "capture") if capture else None
    if recorder is not None:
        metrics.bind_capture(
            lambda: recorder.depth, lambda: recorder.dropped, lambda: recorder.written_rows
        )
    batcher = None
    if settings.serve_batch_max_size > 0:
        batcher = MicroBatcher(settings.serve_batch_max_size, settings.serve_batch_max_latency_ms)
    service = ScoringService(
        ref.name,
        SingleRouter(slot),
        metrics,
        recorder,
        batcher=batcher,
        max_rows=settings.serve_max_rows,
    )

    def publish(s: Served) -> None:
        metrics.publish_model(ref.name, str(s.version.version), s.version.sha256[:12], "champion")

    def on_swap(old: Served, new: Served) -> None:
        metrics.swaps.labels("ok").inc()
        publish(new)

    def on_failure(version: ModelVersion, exc: Exception) -> None:
        metrics.swaps.labels("failed").inc()
        try:  # recorded once per target; its retries show in /metrics
            _record_swap_failure(version, exc)
        except LooplineError:  # the store is unavailable: the gauge still says it
            log.warning("could not record the failed swap to %s", version.uri)

    def on_retry_failure(version: ModelVersion, exc: Exception) -> None:
        metrics.swaps.labels("failed").inc()

    def on_check(target: ModelVersion, in_sync: bool) -> None:
        metrics.publish_registry(ref.name, str(ref.alias), target.version, not in_sync)

    publish(served)
    watchers = []
    if AliasWatcher.follows_alias(uri):
        metrics.publish_registry(ref.name, str(ref.alias), served.version.version, False)
        watchers.append(
            AliasWatcher(
                slot,
                poll_s,
                on_swap,
                on_failure,
                on_check,
                on_retry_failure=on_retry_failure,
                retry_s=retry_s,
                retry_max_s=retry_max_s,
            )
        )
    rollout = RolloutFollower(service, slot, poll_s, alert_sinks=alert_sinks)
    return ServingRuntime(service, watchers, rollout)


def serving_tokens(token_file: str | Path | None = None) -> list[str]:
    """The bearer tokens serving requires: from `token_file`, else from the setting
    `serve_token_file` (LOOPLINE_SERVE_TOKEN_FILE); none means no authentication."""
    path = token_file or load_settings().serve_token_file
    return read_token_file(path) if path else []


def build_app(
    uri: str,
    *,
    capture: bool = True,
    poll_s: float = 1.0,
    token_file: str | Path | None = None,
    retry_s: float = 1.0,
    retry_max_s: float = 60.0,
    alert_sinks: Sequence[AlertSink] = (),
) -> Starlette:
    tokens = serving_tokens(token_file)  # a bad token file fails before the model loads
    runtime = build_service(
        uri,
        capture=capture,
        poll_s=poll_s,
        retry_s=retry_s,
        retry_max_s=retry_max_s,
        alert_sinks=alert_sinks,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runtime.start()
        try:
            yield
        finally:
            runtime.stop()

    return create_app(runtime.service, lifespan, tokens=tokens)


def app_from_env() -> Starlette:
    """Factory for uvicorn's worker processes (each builds its own app)."""
    return build_app(os.environ[_URI_ENV], capture=os.environ.get(_CAPTURE_ENV, "1") == "1")


def check_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            why = (
                "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be used: {exc.strerror}"
            )
            raise ConfigError(
                f"port {port} on {host} {why}", hint="pick another with --port"
            ) from None


def serve(
    uri: str,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 1,
    capture: bool = True,
    token_file: str | Path | None = None,
) -> None:
    """Run the scoring server until interrupted; with `token_file` (or the setting
    LOOPLINE_SERVE_TOKEN_FILE) every route but the health checks needs a bearer token."""
    serving_tokens(token_file)  # a bad token file is one line and exit 2, before binding
    check_port(host, port)
    if workers == 1:
        # fails here, before binding, if anything is wrong
        app = build_app(uri, capture=capture, token_file=token_file)
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
        return
    load_served(uri)  # fail fast in the parent before forking workers
    if token_file:  # the workers read it through the setting
        os.environ[_TOKEN_FILE_ENV] = str(Path(token_file).expanduser().resolve())
    os.environ[_URI_ENV] = uri
    os.environ[_CAPTURE_ENV] = "1" if capture else "0"
    # Workers share metrics through files in one folder (see `_metrics`); the workers are
    # fresh interpreters, so setting it here, before they start, puts them in that mode.
    own = not os.environ.get(MULTIPROC_ENV)
    folder = tempfile.mkdtemp(prefix="loopline-metrics-") if own else os.environ[MULTIPROC_ENV]
    os.makedirs(folder, exist_ok=True)
    os.environ[MULTIPROC_ENV] = folder
    try:
        uvicorn.run(
            "loopline.serving._server:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            access_log=False,
        )
    finally:
        if own:
            del os.environ[MULTIPROC_ENV]
            shutil.rmtree(folder, ignore_errors=True)


__all__ = [
    "ServingRuntime",
    "app_from_env",
    "build_app",
    "build_service",
    "check_port",
    "serve",
    "serving_tokens",
]
