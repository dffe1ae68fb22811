"""The metadata store on SQLAlchemy (SQLite by default, PostgreSQL for teams)."""

from __future__ import annotations

from loopline.store._base import MetadataStore
from loopline.store._engine import CONTROL, WRITE, create_engine
from loopline.store._migrate import ensure_schema
from loopline.store._sql_artifacts import SqlArtifactStore, check_artifact_path
from loopline.store._sql_auth import SqlAuthStore
from loopline.store._sql_deploy import SqlDeploymentStore
from loopline.store._sql_monitoring import SqlMonitoringStore
from loopline.store._sql_runs import dumps_param

__all__ = ["SqlMetadataStore", "check_artifact_path", "dumps_param"]


class SqlMetadataStore(
    SqlArtifactStore, SqlMonitoringStore, SqlDeploymentStore, SqlAuthStore, MetadataStore
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
