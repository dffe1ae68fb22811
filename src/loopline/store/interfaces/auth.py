"""The access area of the metadata store: API tokens and who answers for a model."""

from __future__ import annotations

from abc import ABC, abstractmethod

from loopline.store.records import ApiToken, RegisteredModel


class AuthStore(ABC):
    @abstractmethod
    def create_token(
        self,
        *,
        token_hash: str,
        prefix: str,
        user: str,
        role: str,
        team: str | None,
        expires_at: float | None,
        created_by: str,
    ) -> ApiToken:
        """Store a token by the sha256 of its secret (audited; the secret never is)."""

    @abstractmethod
    def find_token(self, token_hash: str) -> ApiToken:
        """The token with this hash, revoked or expired ones included (NotFoundError if none)."""

    @abstractmethod
    def list_tokens(self, user: str | None = None) -> list[ApiToken]: ...

    @abstractmethod
    def revoke_token(self, token_id: int, *, actor: str) -> ApiToken: ...

    @abstractmethod
    def set_model_owner(
        self, model: str, *, team: str | None, oncall: str | None, actor: str
    ) -> RegisteredModel:
        """Record who answers for a model (audited with before/after)."""


__all__ = ["AuthStore"]
