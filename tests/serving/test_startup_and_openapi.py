from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

from loopline.store import ModelVersion
from tests.conftest import run_cli
from tests.serving.conftest import LiveServer


@pytest.mark.parametrize(
    ("uri", "fragment"),
    [
        ("models:/nope@production", "does not exist"),
        ("churn", "not a model URI"),
        ("models:/churn@staging", "no alias 'staging'"),
    ],
)
def test_bad_start_up_is_one_line_and_exit_2(
    production: ModelVersion, uri: str, fragment: str
) -> None:
    p = run_cli("models", "serve", uri, "--port", "1")
    assert p.returncode == 2 and fragment in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr


def test_port_in_use_is_refused_at_start_up(production: ModelVersion) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        p = run_cli("models", "serve", "models:/churn@production", "--port", str(port))
    assert p.returncode == 2 and "in use" in p.stderr, p.stderr


def test_serve_without_capture_writes_nothing(
    production: ModelVersion, live_server: Callable[..., LiveServer]
) -> None:
    server = live_server(capture=False)
    assert server.service.capture is None
    r = server.client.post("/invocations", json={"dataframe_records": [{"a": 0.1, "b": 0.2}]})
    assert r.status_code == 200
    assert "loopline_capture" in server.client.get("/metrics").text  # gauges exist, unbound
