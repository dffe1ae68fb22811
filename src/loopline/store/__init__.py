"""Metadata store and artifact store: the two seams every lifecycle step writes through.

The package's wings (docs/DESIGN.md, "The store"): `records` (what the store returns),
`interfaces` (one per area; `MetadataStore` is all of them), `sql` (SQLite and PostgreSQL),
`remote` (the client of `loopline server`), `governed` (the role check every store opened
here goes through), `operations` (the table behind the REST routes, the client and the
check) and `artifacts` (content-addressed blobs). Other packages import from here.
"""

from __future__ import annotations

from loopline.config import Settings, load_settings
from loopline.store._chunks import warm_up
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
from loopline.store.artifacts import ArtifactStore, FsspecArtifactStore, sha256_file
from loopline.store.governed import governed
from loopline.store.interfaces import (
    MAX_RUNS_PAGE,
    VERSIONS_PAGE,
    AuditStore,
    AuthStore,
    DeploymentStore,
    MetadataStore,
    MonitoringStore,
    PointTuple,
    RegistryStore,
    RunStore,
)
from loopline.store.records import (
    GENESIS,
    PROGRESS_ACTION,
    RUN_STATUSES,
    STRATEGIES,
    Alert,
    AlertChange,
    AliasMove,
    AliasPolicy,
    ApiToken,
    Approval,
    Artifact,
    AuditEvent,
    Dataset,
    DatasetUse,
    Delivery,
    Deployment,
    EvaluationRecord,
    Experiment,
    GateDecisionRecord,
    Lineage,
    LineageEdge,
    MetricPoint,
    ModelVersion,
    Monitor,
    MonitorRun,
    RegisteredModel,
    RetrainRequest,
    Run,
    WindowResult,
    check_alias,
    check_model_name,
    event_hash,
)
from loopline.store.sql import (
    NoStoreError,
    SqlMetadataStore,
    check_store_exists,
    dumps_param,
    window_seconds,
)

# Last release's record names (docs/vocabulary.md §12, issue 19), old → new: importable from
# here one more release, as aliases of the new ones. Not in __all__: each public name once.
DEPRECATED_NAMES: dict[str, str] = {
    "AlertRecord": "Alert",
    "DeliveryRecord": "Delivery",
    "MonitorRecord": "Monitor",
    "MonitorRunRecord": "MonitorRun",
}
AlertRecord = Alert
DeliveryRecord = Delivery
MonitorRecord = Monitor
MonitorRunRecord = MonitorRun


def open_metadata_store(settings: Settings | None = None, *, create: bool = True) -> MetadataStore:
    """The metadata store the settings name: the team server when LOOPLINE_URL is set,
    else SQLite under LOOPLINE_HOME (or LOOPLINE_DB_URL). Every call is role-checked.

    `create=False` (read-only commands) raises `NoStoreError`, naming where it looked,
    rather than creating a local store that does not exist yet."""
    settings = settings or load_settings()
    if settings.url:
        key = f"{settings.url}#{settings.token}"
        if key not in _OPEN:
            from loopline.store.remote import remote_store

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
        from loopline.store.remote import HttpArtifactStore

        return HttpArtifactStore(settings.url, settings.token)
    return FsspecArtifactStore(settings.artifacts_uri)


_OPEN: dict[str, MetadataStore] = {}


def reset_store_cache() -> None:
    """Close and forget open stores (tests that switch LOOPLINE_HOME call this)."""
    for store in _OPEN.values():
        store.close()
    _OPEN.clear()


__all__ = [
    "GENESIS",
    "MAX_RUNS_PAGE",
    "PROGRESS_ACTION",
    "RUN_STATUSES",
    "STRATEGIES",
    "VERSIONS_PAGE",
    "Alert",
    "AlertChange",
    "AlertSink",
    "AliasMove",
    "AliasPolicy",
    "ApiToken",
    "Approval",
    "Artifact",
    "ArtifactStore",
    "AuditEvent",
    "AuditStore",
    "AuthStore",
    "Dataset",
    "DatasetUse",
    "Delivery",
    "DeliveryError",
    "Deployment",
    "DeploymentStore",
    "EvaluationRecord",
    "Experiment",
    "FsspecArtifactStore",
    "GateDecisionRecord",
    "Lineage",
    "LineageEdge",
    "MetadataStore",
    "MetricPoint",
    "ModelVersion",
    "Monitor",
    "MonitorRun",
    "MonitoringStore",
    "NoStoreError",
    "Notification",
    "PointTuple",
    "RegisteredModel",
    "RegistryStore",
    "RetrainRequest",
    "Run",
    "RunStore",
    "SqlMetadataStore",
    "StoreSink",
    "WebhookSink",
    "WindowResult",
    "check_alias",
    "check_model_name",
    "deliver",
    "dumps_param",
    "event_hash",
    "model_sinks",
    "open_artifact_store",
    "open_metadata_store",
    "redeliver",
    "reset_store_cache",
    "sha256_file",
    "warm_up",
    "window_seconds",
]
