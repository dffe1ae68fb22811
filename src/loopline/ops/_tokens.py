"""API tokens: created once, stored hashed, expiring, revocable.

A token is 32 random bytes (`ll_` + URL-safe base64). Only its sha256 is stored: with
that much entropy a fast hash is enough (a slow password hash protects guessable
secrets; these are not guessable), and it keeps authentication to one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets
import time

from loopline.errors import AuthenticationError, InvalidInputError, NotFoundError
from loopline.identity import Principal, canonical_user, check_role, current_user
from loopline.store import ApiToken, MetadataStore, open_metadata_store

PREFIX = "ll_"


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    user: str,
    role: str,
    *,
    team: str | None = None,
    expires_in_days: float | None = 90.0,
    store: MetadataStore | None = None,
) -> tuple[str, ApiToken]:
    """A new token for `user` with `role`; returns (secret, record). Show the secret once."""
    check_role(role)
    user = canonical_user(user)
    if expires_in_days is not None and expires_in_days <= 0:
        raise InvalidInputError(
            f"expires_in_days={expires_in_days} must be positive",
            hint="pass a number of days, or no expiry",
        )
    secret = PREFIX + secrets.token_urlsafe(32)
    expires_at = time.time() + expires_in_days * 86400 if expires_in_days is not None else None
    record = (store or open_metadata_store()).create_token(
        token_hash=token_hash(secret),
        prefix=secret[:10],
        user=user,
        role=role,
        team=team,
        expires_at=expires_at,
        created_by=current_user(),
    )
    return secret, record


def authenticate(secret: str | None, store: MetadataStore | None = None) -> Principal:
    """The principal a token stands for; AuthenticationError (401) if none or unusable."""
    if not secret:
        raise AuthenticationError(
            "no API token", hint="send 'Authorization: Bearer <token>' (set LOOPLINE_TOKEN)"
        )
    try:
        token = (store or open_metadata_store()).find_token(token_hash(secret))
    except NotFoundError:
        raise AuthenticationError(
            "unknown API token", hint="check LOOPLINE_TOKEN or ask an admin for a new one"
        ) from None
    if token.revoked_at is not None:
        raise AuthenticationError(
            f"API token {token.prefix}… was revoked", hint="ask an admin for a new token"
        )
    if token.expires_at is not None and token.expires_at < time.time():
        raise AuthenticationError(
            f"API token {token.prefix}… has expired", hint="ask an admin for a new token"
        )
    return Principal(token.user, token.role, token.team)


def revoke_token(token_id: int, store: MetadataStore | None = None) -> ApiToken:
    return (store or open_metadata_store()).revoke_token(token_id, actor=current_user())


__all__ = ["authenticate", "create_token", "revoke_token", "token_hash"]
