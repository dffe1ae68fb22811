"""The one error family Loopline raises for user mistakes.

Every `LooplineError` carries a machine code, a one-line message that says what went
wrong and where, and a hint that says how to fix it. The CLI prints it as one line and
exits with code 2; the server turns it into HTTP 4xx with `{"error": {...}}`. Anything
else that escapes is a bug.
"""

from __future__ import annotations

from typing import Any


class LooplineError(Exception):
    """A user-facing error: what happened, where, and how to fix it."""

    code: str = "loopline_error"
    http_status: int = 400

    def __init__(self, message: str, *, hint: str = "", details: dict[str, Any] | None = None):
        self.message = message
        self.hint = hint
        super().__init__(self.one_line())  # str(exc) carries the fix too, even uncaught
        self.details: dict[str, Any] = details or {}

    def one_line(self) -> str:
        """The message and the fix, as the single line the CLI prints."""
        return f"{self.message} — {self.hint}" if self.hint else self.message

    def to_dict(self) -> dict[str, Any]:
        """The JSON error body the API returns."""
        return {
            "error": {
                "code": self.code,
                "message": self.one_line(),
                "hint": self.hint,
                "details": self.details,
            }
        }


class ConfigError(LooplineError):
    code = "config_error"


class NotFoundError(LooplineError):
    code = "not_found"
    http_status = 404


class InvalidInputError(LooplineError):
    code = "invalid_input"
    http_status = 422


class ConflictError(LooplineError):
    code = "conflict"
    http_status = 409


class SchemaVersionError(LooplineError):
    code = "schema_version"
    http_status = 500


class StoreUnavailableError(LooplineError):
    code = "store_unavailable"
    http_status = 503


class ArtifactCorruptedError(LooplineError):
    code = "artifact_corrupted"
    http_status = 500


class AuthenticationError(LooplineError):
    """No token, or a token that is unknown, expired or revoked."""

    code = "unauthenticated"
    http_status = 401


class PermissionDeniedError(LooplineError):
    """The caller is known but their role does not allow the action."""

    code = "forbidden"
    http_status = 403


class PayloadTooLargeError(InvalidInputError):
    code = "payload_too_large"
    http_status = 413


class RateLimitedError(LooplineError):
    code = "rate_limited"
    http_status = 429


__all__ = [
    "ArtifactCorruptedError",
    "AuthenticationError",
    "ConfigError",
    "ConflictError",
    "InvalidInputError",
    "LooplineError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitedError",
    "SchemaVersionError",
    "StoreUnavailableError",
]
