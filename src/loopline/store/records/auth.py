"""Records of the team server's access: API tokens (never their secrets)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ApiToken:
    """An API token as stored: never the secret, only its hash and first characters."""

    id: int
    prefix: str
    user: str
    role: str
    team: str | None
    created_by: str
    created_at: float
    expires_at: float | None
    revoked_at: float | None


__all__ = ["ApiToken"]
