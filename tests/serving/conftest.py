"""A real uvicorn server on 127.0.0.1 serving a registered model, per test."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn

import loopline as ll
from loopline.serving import ScoringService, ServingRuntime, build_service, create_app
from loopline.serving._slot import AliasWatcher
from loopline.store import ModelVersion


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    service: ScoringService
    watchers: list[AliasWatcher]
    client: httpx.Client
    runtime: ServingRuntime


@pytest.fixture
def live_server(
    train_version: Callable[..., ModelVersion],
) -> Iterator[Callable[..., LiveServer]]:
    servers: list[tuple[uvicorn.Server, threading.Thread, LiveServer]] = []

    def start(uri: str = "models:/churn@production", capture: bool = True) -> LiveServer:
        runtime = build_service(uri, capture=capture, poll_s=3600)
        service, watchers = runtime.service, runtime.watchers
        port = free_port()
        config = uvicorn.Config(
            create_app(service), host="127.0.0.1", port=port, log_level="warning", access_log=False
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.started, "uvicorn did not start"
        url = f"http://127.0.0.1:{port}"
        live = LiveServer(url, service, watchers, httpx.Client(base_url=url, timeout=10), runtime)
        servers.append((server, thread, live))
        return live

    yield start
    for server, thread, live in servers:
        live.client.close()
        server.should_exit = True
        thread.join(5)
        if live.service.capture is not None:
            live.service.capture.close()


@pytest.fixture
def production(train_version: Callable[..., ModelVersion]) -> ModelVersion:
    v = train_version()
    ll.promote("churn", v.version, "production")
    return v
