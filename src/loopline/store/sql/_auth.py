"""API tokens and model ownership on SQL. Every change is audited in its own transaction."""

from __future__ import annotations

import re
import time
from typing import Any

import sqlalchemy as sa

from loopline.errors import InvalidInputError, NotFoundError
from loopline.identity import canonical_user, check_role
from loopline.store.records import ApiToken
from loopline.store.sql import _schema as t
from loopline.store.sql._audit import append_audit
from loopline.store.sql._bounds import check_text
from loopline.store.sql._engine import SqlRepository

T = t.api_tokens.c
_HASH = re.compile(r"^[0-9a-f]{64}$")


def _token(r: Any) -> ApiToken:
    return ApiToken(
        r.id,
        r.prefix,
        r.user,
        r.role,
        r.team,
        r.created_by,
        r.created_at,
        r.expires_at,
        r.revoked_at,
    )


class SqlAuthStore(SqlRepository):
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
        # Checked here, not only in `ops.create_token`: POST /tokens reaches the store directly.
        user = canonical_user(user)
        check_role(role)
        if not _HASH.fullmatch(token_hash) or not isinstance(prefix, str) or len(prefix) > 16:
            raise InvalidInputError(
                "token_hash must be 64 lower-case hex digits and prefix at most 16 characters",
                hint="send the sha256 of the secret, never the secret",
            )
        check_text("team", team, limit=128)
        with self._control_engine.begin() as conn:
            tid = conn.execute(
                sa.insert(t.api_tokens).values(
                    token_hash=token_hash,
                    prefix=prefix,
                    user=user,
                    role=role,
                    team=team,
                    created_by=created_by,
                    created_at=time.time(),
                    expires_at=expires_at,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            append_audit(
                conn,
                actor=created_by,
                action="token.create",
                target_kind="user",
                target_id=user,
                after={"token_id": tid, "prefix": prefix, "role": role, "expires_at": expires_at},
            )
            return _token(conn.execute(sa.select(t.api_tokens).where(T.id == tid)).one())

    def find_token(self, token_hash: str) -> ApiToken:
        with self._engine.begin() as conn:
            row = conn.execute(sa.select(t.api_tokens).where(T.token_hash == token_hash)).first()
        if row is None:
            raise NotFoundError(
                "no such API token", hint="create one with `loopline tokens create`"
            )
        return _token(row)

    def list_tokens(self, user: str | None = None) -> list[ApiToken]:
        q = sa.select(t.api_tokens).order_by(T.id)
        if user is not None:
            q = q.where(T.user == user)
        with self._engine.begin() as conn:
            return [_token(r) for r in conn.execute(q)]

    def revoke_token(self, token_id: int, *, actor: str) -> ApiToken:
        with self._control_engine.begin() as conn:
            row = conn.execute(sa.select(t.api_tokens).where(T.id == token_id)).first()
            if row is None:
                raise NotFoundError(
                    f"API token {token_id} does not exist", hint="see `loopline tokens list`"
                )
            if row.revoked_at is None:
                conn.execute(
                    sa.update(t.api_tokens).where(T.id == token_id).values(revoked_at=time.time())
                )
                append_audit(
                    conn,
                    actor=actor,
                    action="token.revoke",
                    target_kind="user",
                    target_id=row.user,
                    after={"token_id": token_id, "prefix": row.prefix},
                )
            return _token(conn.execute(sa.select(t.api_tokens).where(T.id == token_id)).one())
