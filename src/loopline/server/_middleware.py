"""The team server's request path as plain ASGI middleware: who is calling, how often,
and how much they send. Each piece obeys the one ASGI contract and knows nothing of the
routes behind it.

Order (outermost first): the rate limit keyed by the client's address (before any token
is looked at, so a caller cannot dodge it by sending a new bogus token each time), then
identity, then the body limit and JSON guard (so an unknown caller's body is never read).
"""

from __future__ import annotations

import ipaddress
import json
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loopline.errors import (
    AuthenticationError,
    InvalidInputError,
    LooplineError,
    PayloadTooLargeError,
    RateLimitedError,
)
from loopline.identity import Principal, acting_as
from loopline.ops import authenticate

# Paths anyone may read: liveness, and the published API description.
PUBLIC = ("/api/v1/health", "/openapi.json", "/docs", "/docs/oauth2-redirect")
COOKIE = "loopline_token"


async def send_error(
    send: Send, error: LooplineError, headers: dict[str, str] | None = None
) -> None:
    body = json.dumps(error.to_dict()).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": error.http_status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def request_token(scope: Scope) -> str | None:
    """The bearer token from the Authorization header, else the UI's session cookie."""
    auth = _header(scope, b"authorization")
    if auth and auth.lower().startswith("bearer "):
        return auth[7:].strip()
    cookie = _header(scope, b"cookie") or ""
    for part in cookie.split(";"):
        key, _, value = part.strip().partition("=")
        if key == COOKIE and value:
            return value
    return None


class AuthMiddleware:
    """Resolve the API token to a principal and run the request as that principal.

    Only identity is decided here; what the principal may do is checked by the governed
    store in the library layer. Paths outside `/api/` (the web UI) pass through with the
    principal set when a valid cookie is present, so the UI can redirect to its login.
    """

    def __init__(self, app: ASGIApp, resolve: Callable[[str | None], Principal] = authenticate):
        self.app = app
        self.resolve = resolve

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PUBLIC:
            await self.app(scope, receive, send)
            return
        api = scope["path"].startswith("/api/")
        try:
            principal: Principal | None = self.resolve(request_token(scope))
        except AuthenticationError as exc:
            if api:
                await send_error(send, exc, {"www-authenticate": "Bearer"})
                return
            principal = None
        scope.setdefault("state", {})["principal"] = principal
        with acting_as(principal):
            await self.app(scope, receive, send)


def client_key(scope: Scope) -> str:
    """The rate-limit key of a request: the client's address (an IPv6 client by its /64,
    which one host usually owns whole). The address is the TCP peer, or what a trusted
    proxy said it was (uvicorn's `--forwarded-allow-ips`); headers are never read here."""
    client = scope.get("client") or ("?", 0)
    host = str(client[0])
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((addr, 64), strict=False))
    return str(addr.ipv4_mapped or addr) if isinstance(addr, ipaddress.IPv6Address) else host


class RateLimiter:
    """Token buckets by key, `rate` per second sustained and `burst` at once, in a table of
    at most `max_keys` entries: the least recently seen key is forgotten first, so memory
    stays bounded whatever the callers send (a forgotten key starts again with a full
    bucket, which is what an idle key would have anyway)."""

    def __init__(self, rate: float, burst: int, max_keys: int = 10_000) -> None:
        self.rate, self.burst, self.max_keys = rate, float(burst), max(1, max_keys)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> float:
        """Seconds to wait (0 when a request may pass now)."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate if self.rate > 0 else 60.0
            self._buckets[key] = (tokens, now)  # (re)inserted last: the most recent
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            return wait


class RateLimitMiddleware:
    """Rate limit by client address, before authentication: `rate` per second sustained,
    `burst` at once; beyond that 429 with Retry-After. Keying by token instead would let a
    caller that sends a new (bogus) token per request through unlimited, each one costing
    a token lookup and a table entry."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app, self.limiter, self.rate = app, limiter, limiter.rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.rate <= 0:
            await self.app(scope, receive, send)
            return
        wait = self.limiter.take(client_key(scope))
        if wait > 0:
            error = RateLimitedError(
                f"too many requests from this address: more than {self.rate:g}/s",
                hint=f"retry in {wait:.2f} s",
            )
            await send_error(send, error, {"retry-after": f"{max(wait, 0.05):.2f}"})
            return
        await self.app(scope, receive, send)


MAX_JSON_DEPTH = 64
_API = "/api/"
_ARTIFACTS = "/api/v1/artifacts/"
# A JSON string, escapes included (the unrolled form: no backtracking on long strings).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(set(range(256)) - {ord("["), ord("]"), ord("{"), ord("}")})
# A \uD800-\uDFFF escape: only a well-formed pair (high then low) is a character.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class MalformedBodyError(InvalidInputError):
    """A body that is not text at all: invalid UTF-8, or a lone UTF-16 surrogate."""

    code = "malformed_body"
    http_status = 400


def json_depth(body: bytes, limit: int = MAX_JSON_DEPTH) -> int:
    """How deeply `body`'s arrays and objects nest (at most `limit` + 1: counting stops
    there), without parsing it: strings are cut out, then each pass removes the innermost
    bracket pairs. Linear per pass, at most `limit` + 1 passes, never recursive."""
    shape = _STRING.sub(b"", body).translate(_BRACKETS, _NOT_BRACKETS)
    depth = 0
    while shape and depth <= limit:
        shorter = shape.replace(b"[]", b"")
        if len(shorter) == len(shape):
            # Unbalanced (not JSON): what is left is `]]…[[`; count the openings as levels,
            # so `[[[[…` without an end is refused here rather than recursed into.
            return depth + shape.count(b"[")
        shape, depth = shorter, depth + 1
    return depth


def check_json_body(body: bytes, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse what the JSON parser would accept and the rest of the server could not hold:
    text that is not UTF-8, lone surrogates (valid JSON escapes that no database or UTF-8
    encoder takes), and nesting deeper than `limit` (the parser and every later walk of the
    value recurse)."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedBodyError(
            f"request body is not UTF-8 (bad byte at offset {exc.start})",
            hint="send JSON encoded as UTF-8",
        ) from None
    if json_depth(body, limit) > limit:
        raise InvalidInputError(
            f"request JSON is nested more than {limit} levels deep",
            hint="flatten the document: a few levels of plain data",
        )
    if _SURROGATE_ESCAPE.search(body):  # rare: only then pay for a parse
        try:
            value = json.loads(body)
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise MalformedBodyError(
                "request JSON holds a lone UTF-16 surrogate escape (such as \\ud800)",
                hint="escape characters outside the BMP as a surrogate pair, or send them as UTF-8",
            ) from None
        except ValueError:
            return  # not JSON at all: the route's parser answers 422 naming the problem


class BodyLimitMiddleware:
    """Refuse a request body over the limit — by Content-Length before reading, and by
    counting while streaming (a chunked upload has no length). Artifact uploads under
    `/api/v1/artifacts/` have their own, larger limit and stream through untouched.

    Every other API body is read here (bounded by the limit), checked by `check_json_body`
    and handed on whole, so no route ever parses a body too deep or not UTF-8."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        max_artifact_bytes: int,
        max_depth: int = MAX_JSON_DEPTH,
    ) -> None:
        self.app, self.max_bytes, self.max_artifact = app, max_bytes, max_artifact_bytes
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        artifact = path.startswith(_ARTIFACTS)
        limit = self.max_artifact if artifact else self.max_bytes
        too_big = PayloadTooLargeError(
            f"request body over the {limit / 2**20:g} MiB limit",
            hint="send less per request (log metrics in batches; artifacts are streamed)",
        )
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await send_error(send, too_big)
            return
        if path.startswith(_API) and not artifact and scope.get("method") != "GET":
            await self._checked_json(scope, receive, send, limit, too_big)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooBig()
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _TooBig:
            if not started:
                await send_error(send, too_big)

    async def _checked_json(
        self, scope: Scope, receive: Receive, send: Send, limit: int, too_big: LooplineError
    ) -> None:
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > limit:
                await send_error(send, too_big)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            check_json_body(body, self.max_depth)
        except LooplineError as exc:
            await send_error(send, exc)
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect

        await self.app(scope, replay, send)


class _TooBig(Exception):
    pass


__all__ = [
    "COOKIE",
    "MAX_JSON_DEPTH",
    "AuthMiddleware",
    "BodyLimitMiddleware",
    "MalformedBodyError",
    "RateLimitMiddleware",
    "RateLimiter",
    "check_json_body",
    "client_key",
    "json_depth",
    "request_token",
    "send_error",
]
