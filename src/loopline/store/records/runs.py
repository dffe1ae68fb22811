"""Records of tracking: experiments, runs, metrics, artifacts, datasets and lineage."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

RUN_STATUSES = ("running", "finished", "failed", "lost")


@dataclass(frozen=True)
class Experiment:
    id: int
    name: str
    created_at: float
    run_count: int = 0


@dataclass(frozen=True)
class Lineage:
    """Where a run came from: code, environment, machine. Captured automatically."""

    git_commit: str | None = None
    git_dirty: bool | None = None
    git_remote: str | None = None
    python_version: str | None = None
    packages_hash: str | None = None
    host: str | None = None
    user: str | None = None
    pid: int | None = None
    proc_start: str | None = None
    seed: int | None = None
    environment: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Run:
    id: str
    experiment_id: int
    experiment: str
    name: str
    status: str
    started_at: float
    ended_at: float | None
    heartbeat_at: float
    error: str | None
    lineage: Lineage
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    # last value of each metric key (by step, then time)
    metrics: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MetricPoint:
    key: str
    value: float
    step: int
    timestamp: float


@dataclass(frozen=True)
class Artifact:
    run_id: str
    path: str
    kind: str
    sha256: str
    size: int
    created_at: float
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Dataset:
    id: int
    fingerprint: str
    name: str
    n_rows: int
    n_columns: int
    schema: dict[str, str]
    profile: dict[str, Any]
    source: str | None
    artifact_sha256: str | None
    created_at: float


@dataclass(frozen=True)
class DatasetUse:
    """A dataset as one run used it (the same data may be `train` in one run, `test` in another)."""

    dataset: Dataset
    name: str
    role: str


@dataclass(frozen=True)
class LineageEdge:
    src_kind: str
    src_id: str
    dst_kind: str
    dst_id: str
    relation: str
    created_at: float


__all__ = [
    "RUN_STATUSES",
    "Artifact",
    "Dataset",
    "DatasetUse",
    "Experiment",
    "Lineage",
    "LineageEdge",
    "MetricPoint",
    "Run",
]
