"""The metadata store on SQLAlchemy (SQLite by default, PostgreSQL for teams).

`SqlMetadataStore` composes one repository per area, each over the engines they share
(`_engine.Engines`): `_runs`, `_artifacts` (artifact records, datasets, lineage), `_registry`,
`_evidence` (approvals, gate decisions, evaluations, alias policies), `_promotion` (alias moves,
ADR-027), `_deployments`, `_monitoring`, `_alerts`, `_auth`, `_audit` (the hash chain). Rules
that span areas are functions of a connection, called inside the one transaction of a change
(`find_version`, `alias_holder`, `move_alias_in`, `append_audit`…). Under them: `_engine`
(SQLite pragmas, PostgreSQL pools and advisory locks), `_schema/` (the tables, one module per
area), `_migrate` and `migrations/` (Alembic), `_protocol` (the promotion rules read in the
transaction of a move), `_queries` (query builders), `_bounds` (input limits).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from loopline.store.interfaces import MetadataStore
from loopline.store.operations import with_renamed_args
from loopline.store.sql._alerts import SqlAlertStore
from loopline.store.sql._artifacts import SqlArtifactStore, check_artifact_path
from loopline.store.sql._audit import SqlAuditStore
from loopline.store.sql._auth import SqlAuthStore
from loopline.store.sql._bounds import window_seconds
from loopline.store.sql._deployments import SqlDeploymentStore
from loopline.store.sql._engine import (
    Engines,
    NoStoreError,
    check_store_exists,
    create_engine,
)
from loopline.store.sql._evidence import SqlEvidenceStore
from loopline.store.sql._migrate import ensure_schema
from loopline.store.sql._monitoring import SqlMonitoringStore
from loopline.store.sql._promotion import SqlPromotionStore
from loopline.store.sql._registry import SqlRegistryStore
from loopline.store.sql._runs import SqlRunStore, dumps_param

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

P = ParamSpec("P")
R = TypeVar("R")


def _via(area: str, method: Callable[Concatenate[Any, P], R]) -> Callable[Concatenate[Any, P], R]:
    """The operation `method` of the repository in attribute `area`. mypy checks the line
    against `MetadataStore`'s own signature, so an operation whose repository disagrees with
    the interface does not type-check, and one left out makes the class abstract."""

    def call(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return method(getattr(self, area), *args, **kwargs)

    call.__name__ = call.__qualname__ = method.__name__
    call.__doc__ = method.__doc__
    return with_renamed_args(call, method)


class SqlMetadataStore(MetadataStore):
    """`MetadataStore` over one SQLAlchemy engine; migrates the schema on open."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine = create_engine(url)
        ensure_schema(self._engine, url)
        engines = Engines.over(url, self._engine)
        # Tracking writes run concurrently on PostgreSQL (keyed locks where they read then
        # write); registry, deployment, monitoring and alert writes use the control engine.
        self._write_engine = engines.write
        self.runs = SqlRunStore(engines)
        self.artifacts = SqlArtifactStore(engines)
        self.registry = SqlRegistryStore(engines)
        self.evidence = SqlEvidenceStore(engines)
        self.promotion = SqlPromotionStore(engines)
        self.deployments = SqlDeploymentStore(engines)
        self.monitoring = SqlMonitoringStore(engines)
        self.alerts = SqlAlertStore(engines)
        self.auth = SqlAuthStore(engines)
        self.audit = SqlAuditStore(engines)

    def close(self) -> None:
        self._engine.dispose()

    # runs
    create_run = _via("runs", SqlRunStore.create_run)
    finish_run = _via("runs", SqlRunStore.finish_run)
    get_experiment = _via("runs", SqlRunStore.get_experiment)
    get_or_create_experiment = _via("runs", SqlRunStore.get_or_create_experiment)
    get_run = _via("runs", SqlRunStore.get_run)
    heartbeat = _via("runs", SqlRunStore.heartbeat)
    list_experiments = _via("runs", SqlRunStore.list_experiments)
    list_runs = _via("runs", SqlRunStore.list_runs)
    log_metrics = _via("runs", SqlRunStore.log_metrics)
    log_params = _via("runs", SqlRunStore.log_params)
    metric_history = _via("runs", SqlRunStore.metric_history)
    set_tags = _via("runs", SqlRunStore.set_tags)
    # artifacts
    add_lineage_edge = _via("artifacts", SqlArtifactStore.add_lineage_edge)
    get_artifact = _via("artifacts", SqlArtifactStore.get_artifact)
    get_dataset = _via("artifacts", SqlArtifactStore.get_dataset)
    lineage_edges = _via("artifacts", SqlArtifactStore.lineage_edges)
    list_artifacts = _via("artifacts", SqlArtifactStore.list_artifacts)
    list_datasets = _via("artifacts", SqlArtifactStore.list_datasets)
    record_artifact = _via("artifacts", SqlArtifactStore.record_artifact)
    record_dataset_use = _via("artifacts", SqlArtifactStore.record_dataset_use)
    run_datasets = _via("artifacts", SqlArtifactStore.run_datasets)
    # registry
    create_version = _via("registry", SqlRegistryStore.create_version)
    get_model = _via("registry", SqlRegistryStore.get_model)
    get_version = _via("registry", SqlRegistryStore.get_version)
    get_version_by_alias = _via("registry", SqlRegistryStore.get_version_by_alias)
    list_models = _via("registry", SqlRegistryStore.list_models)
    list_versions = _via("registry", SqlRegistryStore.list_versions)
    set_model_owner = _via("registry", SqlRegistryStore.set_model_owner)
    update_card = _via("registry", SqlRegistryStore.update_card)
    # evidence
    add_approval = _via("evidence", SqlEvidenceStore.add_approval)
    get_alias_policy = _via("evidence", SqlEvidenceStore.get_alias_policy)
    list_approvals = _via("evidence", SqlEvidenceStore.list_approvals)
    list_evaluations = _via("evidence", SqlEvidenceStore.list_evaluations)
    list_gate_decisions = _via("evidence", SqlEvidenceStore.list_gate_decisions)
    record_evaluation = _via("evidence", SqlEvidenceStore.record_evaluation)
    record_gate_decision = _via("evidence", SqlEvidenceStore.record_gate_decision)
    set_alias_policy = _via("evidence", SqlEvidenceStore.set_alias_policy)
    # promotion
    alias_history = _via("promotion", SqlPromotionStore.alias_history)
    move_alias = _via("promotion", SqlPromotionStore.move_alias)
    rollback_alias = _via("promotion", SqlPromotionStore.rollback_alias)
    # deployments
    active_deployment = _via("deployments", SqlDeploymentStore.active_deployment)
    create_deployment = _via("deployments", SqlDeploymentStore.create_deployment)
    get_deployment = _via("deployments", SqlDeploymentStore.get_deployment)
    list_deployments = _via("deployments", SqlDeploymentStore.list_deployments)
    report_swap_failure = _via("deployments", SqlDeploymentStore.report_swap_failure)
    update_deployment = _via("deployments", SqlDeploymentStore.update_deployment)
    # monitoring
    get_monitor = _via("monitoring", SqlMonitoringStore.get_monitor)
    list_monitor_runs = _via("monitoring", SqlMonitoringStore.list_monitor_runs)
    list_monitors = _via("monitoring", SqlMonitoringStore.list_monitors)
    list_retrain_requests = _via("monitoring", SqlMonitoringStore.list_retrain_requests)
    list_windows = _via("monitoring", SqlMonitoringStore.list_windows)
    record_labels_change = _via("monitoring", SqlMonitoringStore.record_labels_change)
    record_monitor_run = _via("monitoring", SqlMonitoringStore.record_monitor_run)
    request_retrain = _via("monitoring", SqlMonitoringStore.request_retrain)
    save_monitor = _via("monitoring", SqlMonitoringStore.save_monitor)
    update_retrain_request = _via("monitoring", SqlMonitoringStore.update_retrain_request)
    # alerts
    get_alert = _via("alerts", SqlAlertStore.get_alert)
    list_alerts = _via("alerts", SqlAlertStore.list_alerts)
    list_deliveries = _via("alerts", SqlAlertStore.list_deliveries)
    raise_alert = _via("alerts", SqlAlertStore.raise_alert)
    record_delivery = _via("alerts", SqlAlertStore.record_delivery)
    resolve_alert = _via("alerts", SqlAlertStore.resolve_alert)
    update_delivery = _via("alerts", SqlAlertStore.update_delivery)
    # auth
    create_token = _via("auth", SqlAuthStore.create_token)
    find_token = _via("auth", SqlAuthStore.find_token)
    list_tokens = _via("auth", SqlAuthStore.list_tokens)
    revoke_token = _via("auth", SqlAuthStore.revoke_token)
    # audit
    list_audit_events = _via("audit", SqlAuditStore.list_audit_events)
