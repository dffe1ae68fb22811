"""Issue 15: the scoring server (`loopline serve`) against hostile clients.

Each test reproduces one finding against a real uvicorn server on 127.0.0.1 and holds
the fix: bodies and rows are bounded before they cost memory or block the event loop,
client mistakes are 4xx and never count against a canary's challenger, and serving can
require a bearer token.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.types import ASGIApp

import loopline as ll
from loopline.serving import Slo, bucket, build_app, deploy
from loopline.serving._request import MAX_BODY_BYTES
from loopline.store import ModelVersion, open_metadata_store
from tests.serving.conftest import LiveServer, free_port

# The `live_server` fixture lives in tests/serving/conftest.py; these tests build their
# servers the same way (build_service + create_app under uvicorn on 127.0.0.1).
from tests.serving.conftest import live_server as live_server

MODEL = "models:/churn@production"
ONE_ROW = {"dataframe_split": {"columns": ["a", "b"], "data": [[0.5, -0.25]]}}
TOKENS = ("tok-" + "a" * 40, "tok-" + "b" * 40)


@pytest.fixture
def production(train_version: Callable[..., ModelVersion]) -> ModelVersion:
    v = train_version()
    ll.promote("churn", v.version, "production")
    return v


@pytest.fixture
def run_app() -> Iterator[Callable[[ASGIApp], str]]:
    """Run any ASGI app under uvicorn on 127.0.0.1; returns its base URL."""
    running: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(app: ASGIApp) -> str:
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.started, "uvicorn did not start"
        running.append((server, thread))
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in running:
        server.should_exit = True
        thread.join(5)


def assert_error_shape(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The serving error body: one line saying what and how to fix it. On /invocations it
    is MLflow's `{"error_code", "message", ...}` with our code, hint and details beside."""
    assert response.status_code == status, response.text[:500]
    body = response.json()
    error = body if "error_code" in body else body["error"]
    if isinstance(error, str):  # the Open Inference Protocol's body: {"error": "<string>"}
        assert error and "\n" not in error, body
        return {"message": error}
    assert set(error) >= {"code", "message", "hint", "details"}, body
    assert error["code"] == code, body
    assert error["message"] and "\n" not in error["message"], body
    assert error["hint"] and error["hint"] in error["message"], body
    return dict(error)


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def read_response(sock: socket.socket, timeout: float) -> bytes:
    """Whatever the server answers within `timeout` (until it closes or goes quiet)."""
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return data


# --- request bodies ------------------------------------------------------------------------


def test_content_length_over_the_limit_is_refused_before_the_body(
    production: ModelVersion, live_server: Callable[..., LiveServer]
) -> None:
    """Finding: serving waits for the body of `Content-Length: 10000000000` before its
    64 MiB limit answers 413. Now the declared length is refused at once."""
    server = live_server(capture=False)
    with socket.create_connection(("127.0.0.1", port_of(server.url))) as sock:
        sock.sendall(
            b"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n"
        )
        t0 = time.monotonic()
        answer = read_response(sock, timeout=5)
        elapsed = time.monotonic() - t0
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert elapsed < 2, elapsed
    error = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert error["error_code"] == "BAD_REQUEST", error  # MLflow's field on /invocations
    assert error["code"] == "payload_too_large" and "64 MiB" in error["message"], error


def test_chunked_body_is_refused_as_soon_as_it_passes_the_limit(
    production: ModelVersion, live_server: Callable[..., LiveServer]
) -> None:
    """Finding: serving reads a whole 80 MiB chunked body before answering 413. Now the
    chunks are counted as they arrive and the answer comes once the count passes 64 MiB."""
    server = live_server(capture=False)
    chunk = b"x" * (1 << 20)
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    answer = b""
    with socket.create_connection(("127.0.0.1", port_of(server.url))) as sock:
        sock.sendall(
            b"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        try:
            for _ in range(80):
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break
                sock.sendall(framed)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed: what it answered is still readable
        answer = read_response(sock, timeout=5)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < MAX_BODY_BYTES + 8 * (1 << 20), f"sent {sent / 2**20:.0f} MiB before the 413"
    error = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert error["code"] == "payload_too_large", error


def test_body_just_under_the_limit_is_still_read(
    production: ModelVersion, live_server: Callable[..., LiveServer]
) -> None:
    """The limit refuses only what is over it: a normal chunked request still scores."""
    server = live_server(capture=False)
    body = json.dumps(ONE_ROW).encode()

    def chunks() -> Iterator[bytes]:
        yield body[:10]
        yield body[10:]

    r = server.client.post(
        "/invocations", content=chunks(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 200, r.text


# --- rows per request ----------------------------------------------------------------------


def test_a_million_rows_are_refused_without_stalling_health(
    production: ModelVersion, live_server: Callable[..., LiveServer]
) -> None:
    """Finding: a 1e6-row request stalls `/health` for 7.6 s and leaves ~1 GiB resident.
    Now rows are capped per request (LOOPLINE_SERVE_MAX_ROWS, default 10,000), counted
    before any DataFrame is built, and the refusal says how to raise the cap or use
    batch scoring; /health keeps answering meanwhile."""
    server = live_server(capture=False)
    rows = [[0.5, -0.25]] * 1_000_000
    body = json.dumps({"dataframe_split": {"columns": ["a", "b"], "data": rows}}).encode()
    result: dict[str, Any] = {}

    def big() -> None:
        t0 = time.monotonic()
        with httpx.Client(base_url=server.url, timeout=60) as c:
            result["response"] = c.post(
                "/invocations", content=body, headers={"content-type": "application/json"}
            )
        result["elapsed"] = time.monotonic() - t0

    thread = threading.Thread(target=big)
    thread.start()
    worst = 0.0
    while thread.is_alive():
        t0 = time.monotonic()
        assert server.client.get("/health").status_code == 200
        worst = max(worst, time.monotonic() - t0)
        time.sleep(0.01)
    thread.join()
    error = assert_error_shape(result["response"], 413, "payload_too_large")
    assert "1000000 rows" in error["message"] and "10000" in error["message"], error
    assert "LOOPLINE_SERVE_MAX_ROWS" in error["hint"] and "loopline score" in error["hint"]
    assert worst < 1.0, f"/health took {worst:.2f} s while the big request was read"
    assert result["elapsed"] < 5, result["elapsed"]


def _oip_columns(n: int) -> dict[str, Any]:
    return {
        "inputs": [
            {"name": "a", "shape": [n], "datatype": "FP64", "data": [1.0] * n},
            {"name": "b", "shape": [n], "datatype": "FP64", "data": [2.0] * n},
        ]
    }


def _oip_matrix(n: int) -> dict[str, Any]:
    return {"inputs": [{"name": "x", "shape": [n, 2], "datatype": "FP64", "data": [1.0] * 2 * n}]}


FORMATS: dict[str, tuple[str, Callable[[int], Any]]] = {
    "split": (
        "/invocations",
        lambda n: {"dataframe_split": {"columns": ["a", "b"], "data": [[1.0, 2.0]] * n}},
    ),
    "records": ("/invocations", lambda n: {"dataframe_records": [{"a": 1.0, "b": 2.0}] * n}),
    "instances": ("/invocations", lambda n: {"instances": [[1.0, 2.0]] * n}),
    "columnar": ("/invocations", lambda n: {"inputs": {"a": [1.0] * n, "b": [2.0] * n}}),
    "csv": ("/invocations", lambda n: "a,b\n" + "1.0,2.0\n" * n),
    "oip-columns": ("/v2/models/churn/infer", _oip_columns),
    "oip-matrix": ("/v2/models/churn/infer", _oip_matrix),
}


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_row_cap_is_a_setting_and_holds_for_every_format(
    production: ModelVersion,
    live_server: Callable[..., LiveServer],
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
) -> None:
    """Finding (rows): the cap applies to every input format, and LOOPLINE_SERVE_MAX_ROWS
    moves it."""
    monkeypatch.setenv("LOOPLINE_SERVE_MAX_ROWS", "5")
    server = live_server(capture=False)
    path, make = FORMATS[fmt]

    def post(n: int) -> httpx.Response:
        content = make(n)
        if isinstance(content, str):
            return server.client.post(path, content=content, headers={"content-type": "text/csv"})
        return server.client.post(path, json=content)

    error = assert_error_shape(post(6), 413, "payload_too_large")
    assert "6 rows" in error["message"] and "limit of 5" in error["message"], error
    if "details" in error:  # the MLflow body carries details; OIP's is one string
        assert error["details"]["max_rows"] == 5
    ok = post(5)
    assert ok.status_code == 200, ok.text


def test_max_rows_setting_must_be_positive(
    production: ModelVersion, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loopline.errors import ConfigError
    from loopline.serving import build_service

    monkeypatch.setenv("LOOPLINE_SERVE_MAX_ROWS", "0")
    with pytest.raises(ConfigError, match="LOOPLINE_SERVE_MAX_ROWS"):
        build_service(MODEL, capture=False, poll_s=3600)


# --- client mistakes never count against the challenger ------------------------------------


def deep(depth: int, leaf: str = "1") -> str:
    return "[" * depth + leaf + "]" * depth


GARBAGE: list[tuple[str, str, str]] = [
    ("/invocations", "application/json", deep(5000)),
    (
        "/invocations",
        "application/json",
        '{"dataframe_records": [{"a": ' + deep(5000) + ', "b": 1}]}',
    ),
    (
        "/invocations",
        "application/json",
        '{"dataframe_split": {"columns": ["a", "b"], "data": ' + deep(5000) + "}}",
    ),
    ("/invocations", "application/json", '{"instances": [[' + deep(40) + ", 1]]}"),
    (
        "/invocations",
        "application/json",
        '{"dataframe_records": [{"a": ' + deep(20) + ', "b": 1}]}',
    ),
    ("/invocations", "application/json", '{"dataframe_records": [{"a": {"x": 1}, "b": [1, 2]}]}'),
    ("/invocations", "application/json", "{not json"),
    (
        "/invocations",
        "application/json",
        '{"dataframe_split": {"columns": ["a", "b"], "data": [["x", "y"]]}}',
    ),
    (
        "/invocations",
        "application/json",
        '{"dataframe_split": {"columns": ["a", "b"], "data": [[1.0], [1.0, 2.0, 3.0]]}}',
    ),
    ("/invocations", "application/json", '{"inputs": {"a": [1, 2], "b": [1]}}'),
    ("/invocations", "application/json", '{"inputs": {"a": [[[1]]], "b": [[[2]]]}}'),
    ("/invocations", "application/json", '{"dataframe_records": "abc"}'),
    ("/invocations", "application/json", '{"instances": [[1e400, 1]]}'),
    ("/invocations", "application/json", '{"instances": [["1", {"b": 2}]]}'),
    ("/invocations", "text/csv", 'a,b\n"x,\x00\n1,2,3,4\n'),
    (
        "/v2/models/churn/infer",
        "application/json",
        '{"inputs": [{"name": "a", "shape": [1], "datatype": "FP32", "data": ["abc"]},'
        ' {"name": "b", "shape": [1], "datatype": "FP32", "data": [1]}]}',
    ),
    (
        "/v2/models/churn/infer",
        "application/json",
        '{"inputs": [{"name": "a", "shape": [1], "datatype": "FP32", "data": ' + deep(5000) + "}]}",
    ),
    (
        "/v2/models/churn/infer",
        "application/json",
        '{"inputs": [{"name": "a", "shape": [2], "datatype": "INT64", "data": [[1, 2], [3]]}]}',
    ),
    (
        "/v2/models/churn/infer",
        "application/json",
        '{"inputs": [{"name": "a", "shape": [1], "datatype": "INT64", "data": [1e300]},'
        ' {"name": "b", "shape": [1], "datatype": "INT64", "data": [1]}]}',
    ),
    (
        "/v2/models/churn/infer",
        "application/json",
        '{"inputs": [{"name": "a", "shape": [99999999999999999999], "datatype": "FP64",'
        ' "data": [1]}]}',
    ),
]


def test_garbage_routed_to_the_challenger_is_4xx_and_never_rolls_the_canary_back(
    production: ModelVersion,
    live_server: Callable[..., LiveServer],
    train_version: Callable[..., ModelVersion],
) -> None:
    """Finding: anyone who picks an `x-loopline-route-key` that routes to the challenger
    can send 5,000-deep nested JSON, get 500 "the model failed: RecursionError" each
    time, and so force the canary to roll back. Now nesting is limited while parsing,
    and every decode or conversion error is a 4xx that the canary never counts."""
    v2 = train_version()
    server = live_server(capture=False)
    rollout = server.runtime.rollout
    d = deploy(
        "churn",
        v2.version,
        steps=[50, 100],
        step_duration_s=3600,
        slo=Slo(min_requests=5, max_p95_ms=5000, window_s=60),
    )
    rollout.sync()
    keys = [k for k in (f"attacker-{i}" for i in range(400)) if bucket(k) * 100 < 50][:50]
    assert len(keys) == 50
    answers = []
    for i, key in enumerate(keys):
        path, content_type, body = GARBAGE[i % len(GARBAGE)]
        r = server.client.post(
            path,
            content=body.encode(),
            headers={"content-type": content_type, "x-loopline-route-key": key},
        )
        answers.append((i % len(GARBAGE), r.status_code, r.headers.get("x-loopline-arm")))
        if 400 <= r.status_code < 500:
            body = r.json()  # MLflow's {"error_code", "message"}, or OIP's {"error": "<str>"}
            error = body["message"] if "error_code" in body else body["error"]
            message = error if isinstance(error, str) else error["message"]
            assert message and "\n" not in message, error
    wrong = [a for a in answers if not (400 <= a[1] < 500) or a[2] != "challenger"]
    assert not wrong, f"(garbage #, status, arm) not a 4xx from the challenger: {wrong}"
    challenger = server.service.arm_stats("challenger").window()
    assert challenger.errors == 0, challenger
    # Real traffic to the challenger is judged on its own merits: healthy, so no rollback.
    for key in keys[:20]:
        r = server.client.post("/invocations", json=ONE_ROW, headers={"x-loopline-route-key": key})
        assert r.status_code == 200 and r.headers["x-loopline-arm"] == "challenger"
    assert server.service.arm_stats("challenger").window().errors == 0
    rollout.check()
    assert open_metadata_store().get_deployment(d.id).status == "active"
    assert server.service.router.get_params()["strategy"] == "canary"
    metrics = server.client.get("/metrics").text
    assert 'code="500"' not in metrics


def test_deep_json_is_refused_while_parsing(
    production: ModelVersion, live_server: Callable[..., LiveServer]
) -> None:
    """Finding (depth): nesting over 32 levels is a 400 (MLflow's status on /invocations)
    naming the limit, found before the JSON is turned into objects; brackets inside
    strings do not count."""
    server = live_server(capture=False)
    r = server.client.post(
        "/invocations", content=deep(33), headers={"content-type": "application/json"}
    )
    error = assert_error_shape(r, 400, "invalid_input")
    assert "32" in error["message"], error
    # brackets inside strings are not nesting: read, and the extra column ignored (as MLflow)
    tricky = {"dataframe_records": [{"a": 0.5, "b": 0.25, "note": "[" * 100 + '\\"{' * 50}]}
    r = server.client.post("/invocations", json=tricky)
    assert r.status_code == 200 and r.headers["x-loopline-ignored-columns"] == "note", r.text
    ok = {"dataframe_split": {"columns": ["a", "b"], "data": [[0.5, -0.25]] * 200}}
    assert server.client.post("/invocations", json=ok).status_code == 200


def test_a_real_model_failure_still_counts(
    production: ModelVersion,
    live_server: Callable[..., LiveServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only the model failing is a 5xx, and that still counts for the arm."""
    server = live_server(capture=False)
    model = server.service.router.route("").slot.current.model

    def broken(self: Any, frame: Any, **options: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(type(model), "score", broken)
    r = server.client.post("/invocations", json=ONE_ROW)
    assert r.status_code == 500 and "RuntimeError" in r.json()["message"]
    assert r.json()["error_code"] == "INTERNAL_ERROR"
    assert server.service.arm_stats("champion").window().errors == 1


# --- bearer tokens -------------------------------------------------------------------------


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "serve-tokens"
    path.write_text(f"# scoring clients\n{TOKENS[0]}\n\n  {TOKENS[1]}  \n")
    return path


OPEN = ["/health", "/ping", "/v2/health/live", "/v2/health/ready"]
GUARDED = [
    ("POST", "/invocations"),
    ("POST", "/v2/models/churn/infer"),
    ("GET", "/v2/models/churn"),
    ("GET", "/v2/models/churn/ready"),
    ("GET", "/v2"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("GET", "/no/such/route"),
    ("GET", "/health/../metrics"),
]


def test_bearer_token_guards_every_route_but_health(
    production: ModelVersion,
    token_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    run_app: Callable[[ASGIApp], str],
) -> None:
    """Finding: serving has no authentication at all. With LOOPLINE_SERVE_TOKEN_FILE (or
    `loopline serve --token-file`) every route needs `Authorization: Bearer <token>`,
    except the health checks."""
    monkeypatch.setenv("LOOPLINE_SERVE_TOKEN_FILE", str(token_file))
    url = run_app(build_app(MODEL, capture=False, poll_s=3600))
    with httpx.Client(base_url=url, timeout=10) as client:
        for path in OPEN:
            assert client.get(path).status_code == 200, path
        for method, path in GUARDED:
            for auth in (
                None,
                "Bearer nope",
                f"Basic {TOKENS[0]}",
                "Bearer",
                f"Bearer {TOKENS[0]}x",
            ):
                headers = {"authorization": auth} if auth else {}
                r = client.request(method, path, json=ONE_ROW, headers=headers)
                assert_error_shape(r, 401, "unauthenticated")
                assert r.headers["www-authenticate"].startswith("Bearer"), r.headers
                # Each route refuses in its own protocol's body, so its clients can read it.
                if path.startswith("/v2"):
                    assert isinstance(r.json()["error"], str), r.text
                elif path == "/invocations":
                    assert r.json()["error_code"] == "UNAUTHENTICATED", r.text
        for token in TOKENS:
            r = client.post(
                "/invocations", json=ONE_ROW, headers={"authorization": f"Bearer {token}"}
            )
            assert r.status_code == 200, r.text
            r = client.get("/metrics", headers={"authorization": f"bearer {token}"})
            assert r.status_code == 200


def test_token_file_mistakes_are_one_line(
    production: ModelVersion, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loopline.errors import ConfigError

    cases = {
        "missing": None,
        "empty": "# nothing here\n\n",
        "short": "abc\n",
        "spaces": "a token with spaces in it\n",
    }
    for name, text in cases.items():
        path = tmp_path / name
        if text is not None:
            path.write_text(text)
        monkeypatch.setenv("LOOPLINE_SERVE_TOKEN_FILE", str(path))
        with pytest.raises(ConfigError) as info:
            build_app(MODEL, capture=False, poll_s=3600)
        assert str(path) in str(info.value) and "\n" not in str(info.value), name


def test_cli_serve_token_file(production: ModelVersion, token_file: Path, tmp_path: Path) -> None:
    """`loopline serve --token-file PATH`, end to end in a real process."""
    bad = subprocess.run(
        [sys.executable, "-m", "loopline", "serve", MODEL, "--token-file", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 2, (bad.stdout, bad.stderr)
    assert "nope" in bad.stdout + bad.stderr
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "loopline",
            "serve",
            MODEL,
            "--port",
            str(port),
            "--token-file",
            str(token_file),
            "--no-capture",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ},
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "loopline serve did not start"
            time.sleep(0.2)
        assert httpx.post(f"{url}/invocations", json=ONE_ROW).status_code == 401
        r = httpx.post(
            f"{url}/invocations", json=ONE_ROW, headers={"authorization": f"Bearer {TOKENS[1]}"}
        )
        assert r.status_code == 200, r.text
    finally:
        proc.terminate()
        proc.wait(10)
