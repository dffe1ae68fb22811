"""The metadata store on SQLAlchemy (SQLite by default, PostgreSQL for teams).

One module per area implements that area's interface over the shared engines: `_runs`,
`_artifacts` (artifact records, datasets, lineage), `_registry`, `_evidence` (approvals,
gate decisions, evaluations, alias policies), `_promotion` (alias moves, ADR-027),
`_deployments`, `_monitoring`, `_alerts`, `_auth`, `_audit` (the hash chain). Under them:
`_engine` (SQLite pragmas, PostgreSQL pools and advisory locks), `_schema/` (the tables, one
module per area), `_migrate` and `migrations/` (Alembic), `_protocol` (the promotion rules
read in the transaction of a move), `_queries` (query builders), `_bounds` (input limits).
"""

from __future__ import annotations

from loopline.store.interfaces import MetadataStore
from loopline.store.sql._artifacts import SqlArtifactStore, check_artifact_path
from loopline.store.sql._audit import SqlAuditStore
from loopline.store.sql._auth import SqlAuthStore
from loopline.store.sql._bounds import window_seconds
from loopline.store.sql._deployments import SqlDeploymentStore
from loopline.store.sql._engine import (
    CONTROL,
    WRITE,
    NoStoreError,
    check_store_exists,
    create_engine,
)
from loopline.store.sql._migrate import ensure_schema
from loopline.store.sql._monitoring import SqlMonitoringStore
from loopline.store.sql._runs import dumps_param

__all__ = [
    "NoStoreError",
    "SqlMetadataStore",
    "check_artifact_path",
    "check_store_exists",
    "create_engine",
    "dumps_param",
    "ensure_schema",
    "window_seconds",
]


class SqlMetadataStore(
    SqlArtifactStore,
    SqlMonitoringStore,
    SqlDeploymentStore,
    SqlAuthStore,
    SqlAuditStore,
    MetadataStore,
):
    """`MetadataStore` over one SQLAlchemy engine; migrates the schema on open."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine = create_engine(url)
        ensure_schema(self._engine, url)
        # Tracking writes run concurrently on PostgreSQL (keyed locks where they read then
        # write); registry, deployment, monitoring and alert writes use `_control_engine`.
        self._write_engine = self._engine.execution_options(**WRITE)
        self._control_engine = self._engine.execution_options(**CONTROL)

    def close(self) -> None:
        self._engine.dispose()
