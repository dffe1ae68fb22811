"""The API tokens' table (revision 0005; model owners are columns of `registered_models`)."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    Integer,
    String,
    Table,
)

from loopline.store.sql._schema.conventions import metadata

# API tokens: only the sha256 of the secret is stored; the secret is shown once at creation.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("user", String(128), nullable=False, index=True),
    Column("role", String(32), nullable=False),
    Column("team", String(128)),
    Column("created_by", String(128), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float),
    Column("revoked_at", Float),
    Column("last_used_at", Float),
)
