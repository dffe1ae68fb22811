"""Alembic environment: always driven programmatically by `loopline.store.sql._migrate`,
which hands us an open connection in `config.attributes["connection"]`."""

from __future__ import annotations

from alembic import context

from loopline.store.sql._schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
)
with context.begin_transaction():
    context.run_migrations()
