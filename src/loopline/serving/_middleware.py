"""Request-path middleware, each a plain ASGI app wrapping another."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from loopline.errors import AuthenticationError, ConfigError
from loopline.serving._capture import PredictionCapture
from loopline.serving._errors import error_body_of, protocol_of

MIN_TOKEN_CHARS = 16
# Health checks stay open so load balancers and Kubernetes probes need no secret; they
# tell the model's name and version, nothing more. /ping is MLflow's name for /health.
OPEN_PATHS = frozenset({"/health", "/ping", "/v2/health/live", "/v2/health/ready"})
_OPEN_PREFIX = "/v2/health/"
_TOKEN_HINT = (
    "one token per line; make one with "
    "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
)


class CaptureMiddleware:
    """Hands what a scoring route left in `request.state.capture` to the capture queue,
    after the response has been sent, so capturing never delays the answer."""

    def __init__(self, app: ASGIApp, capture: PredictionCapture) -> None:
        self.app = app
        self.capture = capture

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        if scope["type"] == "http":
            item = scope.get("state", {}).get("capture")
            if item is not None:
                self.capture.offer(item)


def read_token_file(path: str | Path) -> list[str]:
    """The bearer tokens in `path`: one per line, blank lines and `#` comments skipped.
    A missing, unreadable or empty file, or a short or malformed token, is a
    `ConfigError` naming the file and line (never the token)."""
    where = Path(path).expanduser()
    try:
        text = where.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"token file {where} does not exist",
            hint=f"create it ({_TOKEN_HINT}), or drop --token-file / LOOPLINE_SERVE_TOKEN_FILE",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise ConfigError(
            f"token file {where} cannot be read: {why}",
            hint="make it a UTF-8 text file the server's user can read",
        ) from None
    tokens = []
    for number, line in enumerate(text.splitlines(), 1):
        token = line.strip()
        if not token or token.startswith("#"):
            continue
        if not (token.isascii() and token.isprintable()) or any(c.isspace() for c in token):
            raise ConfigError(
                f"line {number} of token file {where} holds a token with spaces or "
                "non-printable characters",
                hint=_TOKEN_HINT,
            )
        if len(token) < MIN_TOKEN_CHARS:
            raise ConfigError(
                f"line {number} of token file {where} holds a token shorter than "
                f"{MIN_TOKEN_CHARS} characters",
                hint=_TOKEN_HINT,
            )
        tokens.append(token)
    if not tokens:
        raise ConfigError(f"token file {where} holds no tokens", hint=_TOKEN_HINT)
    return tokens


def _digest(token: bytes) -> bytes:
    return hashlib.sha256(token).digest()


class BearerAuthMiddleware:
    """Every route needs `Authorization: Bearer <token>` with one of `tokens`, except the
    health checks (`OPEN_PATHS`, `/v2/health/*`). Tokens are compared as SHA-256 digests
    with `hmac.compare_digest`, against every known token, so neither the length nor the
    position of a match shows in the timing. A refusal is 401 with `WWW-Authenticate:
    Bearer` and the error body of the route's protocol (MLflow's, the OIP's, or ours)."""

    def __init__(self, app: ASGIApp, tokens: Sequence[str]) -> None:
        if not tokens:
            raise ValueError("BearerAuthMiddleware needs at least one token")
        self.app = app
        self._digests = tuple(_digest(t.encode()) for t in tokens)
        missing = AuthenticationError(
            "this server needs a bearer token and the request has none",
            hint="send 'Authorization: Bearer <token>' with a token from the server's token file",
        )
        invalid = AuthenticationError(
            "the request's bearer token is not one this server accepts",
            hint="send 'Authorization: Bearer <token>' with a token from the server's token "
            "file (LOOPLINE_SERVE_TOKEN_FILE / --token-file)",
        )
        # (token sent?, protocol) -> body: each route refuses in its own protocol's shape.
        self._bodies = {
            (sent, protocol): json.dumps(error_body_of(exc, 401, protocol)).encode()
            for sent, exc in ((False, missing), (True, invalid))
            for protocol in ("mlflow", "oip", "loopline")
        }

    def _token(self, scope: Scope) -> bytes | None:
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                scheme, _, token = value.partition(b" ")
                return token.strip() if scheme.lower() == b"bearer" else b""
        return None

    def _known(self, token: bytes) -> bool:
        digest = _digest(token)
        found = False
        for known in self._digests:  # no early exit: every token costs the same
            found |= hmac.compare_digest(digest, known)
        return found and bool(token)

    @staticmethod
    def _open(scope: Scope) -> bool:
        path: str = scope.get("path", "")
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        return path in OPEN_PATHS or path.startswith(_OPEN_PREFIX)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self._open(scope):
            await self.app(scope, receive, send)
            return
        token = self._token(scope)
        if token is not None and self._known(token):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = self._bodies[(token is not None, protocol_of(scope.get("path", "")))]
        challenge = b'Bearer realm="loopline"'
        if token is not None:
            challenge += b', error="invalid_token"'
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", challenge),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


__all__ = [
    "MIN_TOKEN_CHARS",
    "OPEN_PATHS",
    "BearerAuthMiddleware",
    "CaptureMiddleware",
    "read_token_file",
]
