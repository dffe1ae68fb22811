"""The audit log's table (revision 0001)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Float,
    Integer,
    String,
    Table,
    Text,
)

from loopline.store.sql._schema.conventions import metadata

# Append-only, hash-chained: each row's `hash` covers its content and `prev_hash`, so an
# edited, deleted or reordered event breaks the chain (verified by `loopline audit verify`).
audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts", Float, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target_kind", String(32), nullable=False),
    Column("target_id", String(256), nullable=False),
    Column("before", JSON),
    Column("after", JSON),
    Column("reason", Text),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
)
