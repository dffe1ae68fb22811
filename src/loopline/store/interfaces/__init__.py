"""The metadata-store seam, one small interface per area; `MetadataStore` is all of them.

Every piece of Loopline talks to metadata through these interfaces, never to SQLAlchemy
directly, so remote mode (a client of `loopline server`) is one more implementation, not a
rewrite. Each method is one transaction: it either happens whole or not at all. A caller
that needs one area may ask for that area's interface (`MonitoringStore`, say); every
store Loopline opens implements the whole `MetadataStore`.
"""

from __future__ import annotations

from abc import abstractmethod

from loopline.store.interfaces.audit import AuditStore
from loopline.store.interfaces.auth import AuthStore
from loopline.store.interfaces.deployments import DeploymentStore
from loopline.store.interfaces.monitoring import MonitoringStore
from loopline.store.interfaces.registry import MAX_VERSIONS_PAGE, VERSIONS_PAGE, RegistryStore
from loopline.store.interfaces.runs import (
    DATASETS_PAGE,
    MAX_DATASETS_PAGE,
    MAX_RUNS_PAGE,
    PointTuple,
    RunStore,
)


class MetadataStore(
    RunStore, RegistryStore, DeploymentStore, MonitoringStore, AuthStore, AuditStore
):
    """Every area of the metadata store, over one database (or one team server)."""

    url: str

    @abstractmethod
    def close(self) -> None: ...


__all__ = [
    "DATASETS_PAGE",
    "MAX_DATASETS_PAGE",
    "MAX_RUNS_PAGE",
    "MAX_VERSIONS_PAGE",
    "VERSIONS_PAGE",
    "AuditStore",
    "AuthStore",
    "DeploymentStore",
    "MetadataStore",
    "MonitoringStore",
    "PointTuple",
    "RegistryStore",
    "RunStore",
]
