"""The team server's request path as plain ASGI middleware: who is calling, how often,
and how much they send. Each piece obeys the one ASGI contract and knows nothing of the
routes behind it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loopline.errors import (
    AuthenticationError,
    LooplineError,
    PayloadTooLargeError,
    RateLimitedError,
)
from loopline.ops._roles import Principal, acting_as
from loopline.ops._tokens import authenticate

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


class RateLimitMiddleware:
    """A token bucket per caller (token, else client address): `rate` per second
    sustained, `burst` at once; beyond that 429 with Retry-After."""

    def __init__(self, app: ASGIApp, rate: float, burst: int) -> None:
        self.app, self.rate, self.burst = app, rate, float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def _take(self, key: str) -> float:
        """Seconds to wait (0 when a request may pass now)."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate if self.rate > 0 else 60.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.rate <= 0:
            await self.app(scope, receive, send)
            return
        client = scope.get("client") or ("?", 0)
        key = request_token(scope) or str(client[0])
        wait = self._take(key)
        if wait > 0:
            error = RateLimitedError(
                f"too many requests: more than {self.rate:g}/s", hint=f"retry in {wait:.2f} s"
            )
            await send_error(send, error, {"retry-after": f"{max(wait, 0.05):.2f}"})
            return
        await self.app(scope, receive, send)


class BodyLimitMiddleware:
    """Refuse a request body over the limit — by Content-Length before reading, and by
    counting while streaming (a chunked upload has no length). Artifact uploads under
    `/api/v1/artifacts/` have their own, larger limit."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_artifact_bytes: int) -> None:
        self.app, self.max_bytes, self.max_artifact = app, max_bytes, max_artifact_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = (
            self.max_artifact if scope["path"].startswith("/api/v1/artifacts/") else self.max_bytes
        )
        too_big = PayloadTooLargeError(
            f"request body over the {limit / 2**20:g} MiB limit",
            hint="send less per request (log metrics in batches; artifacts are streamed)",
        )
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await send_error(send, too_big)
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


class _TooBig(Exception):
    pass


__all__ = [
    "COOKIE",
    "AuthMiddleware",
    "BodyLimitMiddleware",
    "RateLimitMiddleware",
    "request_token",
    "send_error",
]
