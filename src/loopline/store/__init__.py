"""Metadata store and artifact store: the two seams every lifecycle step writes through."""

from __future__ import annotations

from loopline.config import Settings, load_settings
from loopline.store._artifacts import ArtifactStore, FsspecArtifactStore, sha256_file
from loopline.store._base import MetadataStore, PointTuple
from loopline.store._bounds import window_seconds
from loopline.store._deploy_base import PROGRESS_ACTION
from loopline.store._engine import NoStoreError, check_store_exists
from loopline.store._governed import governed
from loopline.store._monitoring_base import (
    AlertChange,
    AlertRecord,
    DeliveryRecord,
    MonitoringStore,
    MonitorRecord,
    MonitorRunRecord,
    RetrainRequest,
    WindowResult,
)
from loopline.store._records import (
    RUN_STATUSES,
    AliasMove,
    AliasPolicy,
    ApiToken,
    Approval,
    Artifact,
    AuditEvent,
    Dataset,
    DatasetUse,
    Deployment,
    EvaluationRecord,
    Experiment,
    GateDecisionRecord,
    Lineage,
    LineageEdge,
    MetricPoint,
    ModelVersion,
    RegisteredModel,
    Run,
)
from loopline.store._registry_base import VERSIONS_PAGE
from loopline.store._sinks import (
    AlertSink,
    DeliveryError,
    Notification,
    StoreSink,
    WebhookSink,
    deliver,
    model_sinks,
    redeliver,
)
from loopline.store._sql import SqlMetadataStore, dumps_param
from loopline.store._sql_registry import check_alias, check_model_name


def open_metadata_store(settings: Settings | None = None, *, create: bool = True) -> MetadataStore:
    """The metadata store the settings name: the team server when LOOPLINE_URL is set,
    else SQLite under LOOPLINE_HOME (or LOOPLINE_DB_URL). Every call is role-checked.

    `create=False` (read-only commands) raises `NoStoreError`, naming where it looked,
    rather than creating a local store that does not exist yet."""
    settings = settings or load_settings()
    if settings.url:
        key = f"{settings.url}#{settings.token}"
        if key not in _OPEN:
            from loopline.store._http import remote_store

            _OPEN[key] = remote_store(settings.url, settings.token)
        return _OPEN[key]
    if settings.db_url not in _OPEN:
        if not create:
            check_store_exists(settings.db_url, settings.home)
        # One engine (and one connection pool) per URL per process.
        _OPEN[settings.db_url] = governed(
            SqlMetadataStore(settings.db_url), FsspecArtifactStore(settings.artifacts_uri)
        )
    return _OPEN[settings.db_url]


def open_artifact_store(settings: Settings | None = None) -> ArtifactStore:
    """The artifact store the settings name (a folder under LOOPLINE_HOME by default)."""
    settings = settings or load_settings()
    if settings.url:
        from loopline.store._http import HttpArtifactStore

        return HttpArtifactStore(settings.url, settings.token)
    return FsspecArtifactStore(settings.artifacts_uri)


_OPEN: dict[str, MetadataStore] = {}


def reset_store_cache() -> None:
    """Close and forget open stores (tests that switch LOOPLINE_HOME call this)."""
    for store in _OPEN.values():
        store.close()
    _OPEN.clear()


__all__ = [
    "PROGRESS_ACTION",
    "RUN_STATUSES",
    "VERSIONS_PAGE",
    "AlertChange",
    "AlertRecord",
    "AlertSink",
    "AliasMove",
    "AliasPolicy",
    "ApiToken",
    "Approval",
    "Artifact",
    "ArtifactStore",
    "AuditEvent",
    "Dataset",
    "DatasetUse",
    "DeliveryError",
    "DeliveryRecord",
    "Deployment",
    "EvaluationRecord",
    "Experiment",
    "FsspecArtifactStore",
    "GateDecisionRecord",
    "Lineage",
    "LineageEdge",
    "MetadataStore",
    "MetricPoint",
    "ModelVersion",
    "MonitorRecord",
    "MonitorRunRecord",
    "MonitoringStore",
    "NoStoreError",
    "Notification",
    "PointTuple",
    "RegisteredModel",
    "RetrainRequest",
    "Run",
    "SqlMetadataStore",
    "StoreSink",
    "WebhookSink",
    "WindowResult",
    "check_alias",
    "check_model_name",
    "deliver",
    "dumps_param",
    "model_sinks",
    "open_artifact_store",
    "open_metadata_store",
    "redeliver",
    "reset_store_cache",
    "sha256_file",
    "window_seconds",
]
