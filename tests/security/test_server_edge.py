"""The team server's HTTP edge (issue 15): bounded bodies, bounded paging, and a rate limit
keyed before authentication with a bounded table. Each test starts a real server on
127.0.0.1 over the test's own store, as tests/server does; its docstring names the finding.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from loopline.store import Lineage
from tests._team_server import TeamServer, start_team_server


@pytest.fixture
def team(home: Path) -> Iterator[TeamServer]:
    server = start_team_server(max_request_mb=0.2)
    yield server
    server.stop()


def _run(team: TeamServer) -> str:
    return team.store.create_run("e", None, {}, {}, Lineage()).id


def _raw(team: TeamServer, request: bytes, timeout: float = 5.0) -> tuple[int, bytes]:
    """Send raw bytes, return (status, body): for what an HTTP client would not send."""
    url = urlsplit(team.url)
    with socket.create_connection((url.hostname, url.port), timeout=timeout) as s:
        s.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        while len(body) < length:
            chunk = s.recv(65536)
            if not chunk:
                break
            body += chunk
    return int(head.split(b" ")[1]), body


def test_content_length_over_the_limit_is_413_before_any_body_is_read(team: TeamServer) -> None:
    """Finding 1 (unbounded request bodies): a Content-Length over the limit is refused from
    the header alone: the server answers 413 without waiting for a single body byte."""
    run_id = _run(team)
    token = team.token("ds", "data-scientist")
    head = (
        f"POST /api/v1/runs/{run_id}/params HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {10**9}\r\n\r\n"
    ).encode()
    t0 = time.perf_counter()
    status, body = _raw(team, head)  # no body follows: a server that reads would hang
    assert status == 413 and json.loads(body)["error"]["code"] == "payload_too_large"
    assert time.perf_counter() - t0 < 2


def test_chunked_json_body_is_counted_as_it_arrives(team: TeamServer) -> None:
    """Finding 1: a chunked API body (no Content-Length) over the limit is 413, and nothing
    of it is stored."""
    run_id = _run(team)

    def chunks() -> Iterator[bytes]:
        yield b'{"params": {'
        for i in range(20_000):
            yield f'"k{i}": "{"x" * 10}", '.encode()
        yield b'"last": "x"}}'

    with team.client("ds", "data-scientist") as c:
        r = c.post(
            f"/api/v1/runs/{run_id}/params",
            content=chunks(),
            headers={"content-type": "application/json"},
        )
        assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    assert team.store.get_run(run_id).params == {}


@pytest.mark.parametrize("depth", [65, 5_000, 40_000])
def test_too_deep_json_is_422_with_one_line(team: TeamServer, depth: int) -> None:
    """Finding 1 (JSON depth): nesting deeper than 64 is refused with a 422 saying what and
    how to fix, before any parser recurses into it (40,000 levels used to reach the JSON
    parser's recursion limit)."""
    run_id = _run(team)
    body = b'{"params": {"a": ' + b"[" * depth + b"]" * depth + b"}}"
    with team.client("ds", "data-scientist") as c:
        r = c.post(
            f"/api/v1/runs/{run_id}/params",
            content=body,
            headers={"content-type": "application/json"},
        )
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_input" and "nested more than 64 levels" in error["message"]
    assert error["hint"] and "\n" not in error["message"]
    assert team.store.get_run(run_id).params == {}


def test_json_just_under_the_depth_limit_still_works(team: TeamServer) -> None:
    """Finding 1: the limit refuses only what is over it (a card 10 deep is fine)."""
    from loopline.server._middleware import json_depth

    card: dict[str, object] = {"leaf": "x"}
    for _ in range(9):
        card = {"inner": card}
    assert json_depth(json.dumps(card).encode()) == 10
    assert json_depth(b'{"a": "[[[[[[", "b": ["]]]"]}') == 2  # brackets in strings: text
    run_id = _run(team)
    with team.client("ds", "data-scientist") as c:
        r = c.post(f"/api/v1/runs/{run_id}/params", json={"params": {"k": "v"}})
        assert r.status_code < 300, r.text


@pytest.mark.parametrize(
    "body",
    [
        b'{"params": {"k": "\\ud800"}}',  # a lone high surrogate escape
        b'{"params": {"\\udc00": "v"}}',  # a lone low surrogate, in a key
        b'{"params": {"k": "\xff\xfe"}}',  # not UTF-8
    ],
)
def test_lone_surrogates_and_invalid_utf8_are_400(team: TeamServer, body: bytes) -> None:
    """Finding 1 (lone surrogate): a JSON string holding `\\ud800` (valid JSON, not text)
    or bytes that are not UTF-8 are a 400 naming the problem, never a 500 from the
    database, and nothing is stored."""
    run_id = _run(team)
    with team.client("ds", "data-scientist") as c:
        r = c.post(
            f"/api/v1/runs/{run_id}/params",
            content=body,
            headers={"content-type": "application/json"},
        )
        assert r.status_code == 400, r.text
        assert r.json()["error"]["code"] == "malformed_body"
        ok = c.post(
            f"/api/v1/runs/{run_id}/params",
            content=b'{"params": {"k": "\\ud83d\\ude00"}}',  # a well-formed pair is fine
            headers={"content-type": "application/json"},
        )
        assert ok.status_code < 300, ok.text
    assert team.store.get_run(run_id).params == {"k": "\U0001f600"}


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/runs", {"limit": -1}),
        ("/api/v1/runs", {"limit": 10**12}),
        ("/api/v1/runs", {"offset": -1}),
        ("/api/v1/alerts", {"limit": -1}),
        ("/api/v1/alerts", {"limit": 10**12}),
        ("/api/v1/audit/events", {"limit": -1}),
        ("/api/v1/audit/events", {"after_id": -5}),
    ],
)
def test_paging_arguments_are_bounded_on_every_list_route(
    team: TeamServer, path: str, params: dict[str, int]
) -> None:
    """Finding 1 (unbounded paging): `limit=-1` (SQLite: no limit) or `limit=10**12` on a
    list route is a 422 naming the argument, for every route built from the store."""
    _run(team)
    with team.client("v", "viewer") as c:
        r = c.get(path, params=params)
        assert r.status_code == 422, (path, params, r.status_code, r.text[:200])
        assert next(iter(params)) in r.json()["error"]["message"]
        assert c.get(path, params={"limit": 5}).status_code == 200


def test_the_openapi_document_states_the_bounds(team: TeamServer) -> None:
    """Finding 1: the bounds are part of the published API (clients and schemathesis see
    them)."""
    with team.client("v", "viewer") as c:
        doc = c.get("/openapi.json").json()
    params = {p["name"]: p for p in doc["paths"]["/api/v1/runs"]["get"]["parameters"]}
    assert params["limit"]["schema"]["maximum"] == 100_000
    assert params["limit"]["schema"]["minimum"] == 0
    assert params["offset"]["schema"]["minimum"] == 0


def test_rate_limit_is_keyed_by_address_before_authentication(home: Path) -> None:
    """Finding 2 (rate limit keyed by token): 3,000 requests from one address, each with a
    new bogus token, are limited once over the burst — they used to pass unlimited (each
    a token lookup) — and the limiter's table does not grow with the tokens."""
    team = start_team_server(rate_limit_per_s=5.0, rate_limit_burst=50)
    try:
        codes: list[int] = []
        with team.client() as c:
            for i in range(3_000):
                r = c.get("/api/v1/runs", headers={"Authorization": f"Bearer ll_bogus{i:06d}"})
                codes.append(r.status_code)
        assert set(codes) <= {401, 429}
        limited = codes.count(429)
        # 50 at once, then 5/s while the loop runs (a few seconds): all the rest are 429.
        assert limited >= 3_000 - 50 - 5 * 30, codes.count(401)
        assert codes[-1] == 429 and "retry-after" in r.headers
        limiter = team.server.config.app.state.rate_limiter
        assert len(limiter) == 1  # one address, one entry: tokens are not keys
    finally:
        team.stop()


def test_rate_limiter_table_is_bounded() -> None:
    """Finding 2 (limiter memory): whatever the number of distinct callers, the table holds
    at most `max_keys` entries (least recently seen forgotten first)."""
    from loopline.server._middleware import RateLimiter

    limiter = RateLimiter(rate=1.0, burst=2, max_keys=1_000)
    for i in range(50_000):
        limiter.take(f"10.0.{i // 256 % 256}.{i % 256}-{i}")
    assert len(limiter) == 1_000
    # A recently seen caller keeps its (drained) bucket; only the oldest are forgotten.
    limiter.take("hot")
    limiter.take("hot")
    assert limiter.take("hot") > 0
    for i in range(500):
        limiter.take(f"other-{i}")
    assert limiter.take("hot") > 0


def test_ipv6_clients_are_keyed_by_their_64_prefix() -> None:
    """Finding 2: one IPv6 host owns a /64; keying by full address would let it rotate
    through 2**64 keys."""
    from loopline.server._middleware import client_key

    a = client_key({"client": ("2001:db8:1:2:aaaa::1", 1)})
    b = client_key({"client": ("2001:db8:1:2:bbbb::9", 2)})
    assert a == b == "2001:db8:1:2::/64"
    assert client_key({"client": ("::ffff:10.0.0.1", 1)}) == "10.0.0.1"
    assert client_key({"client": ("10.0.0.1", 1)}) == "10.0.0.1"
