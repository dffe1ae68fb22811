"""Plain records the metadata store returns. Frozen: a record is a snapshot, not a handle."""

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


# --- registry -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisteredModel:
    id: int
    name: str
    description: str | None
    owner: str | None
    created_at: float
    aliases: dict[str, int] = field(default_factory=dict)  # alias → version number
    latest_version: int | None = None
    team: str | None = None  # owner team, shown on the model card and in alerts
    oncall: str | None = None  # on-call contact


@dataclass(frozen=True)
class ModelVersion:
    id: int
    model: str
    version: int
    run_id: str
    artifact_path: str
    sha256: str
    flavor: str
    signature: dict[str, Any] | None
    metrics: dict[str, float]
    git_commit: str | None
    created_by: str
    created_at: float
    card: dict[str, Any]
    aliases: tuple[str, ...] = ()
    gate: str | None = None  # the latest gate decision: "passed", "failed", None (none yet)

    @property
    def uri(self) -> str:
        return f"models:/{self.model}/{self.version}"

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["uri"] = self.uri
        return d


@dataclass(frozen=True)
class AliasMove:
    id: int
    model: str
    alias: str
    from_version: int | None
    to_version: int
    action: str
    actor: str
    reason: str | None
    gate_decision_id: int | None
    at: float


@dataclass(frozen=True)
class Approval:
    version_id: int
    approver: str
    role: str
    comment: str | None
    at: float


@dataclass(frozen=True)
class GateDecisionRecord:
    id: int
    version_id: int
    alias: str
    champion_version_id: int | None
    policy: dict[str, Any]
    passed: bool
    rules: list[dict[str, Any]]
    decided_by: str
    at: float
    # The registered policy revision (protected aliases); None for an unprotected alias.
    policy_revision: int | None = None


@dataclass(frozen=True)
class EvaluationRecord:
    id: int
    version_id: int
    dataset_fingerprint: str
    task: str
    metrics: dict[str, float]
    slices: dict[str, Any]
    at: float
    recorded_by: str | None = None
    recorder_role: str | None = None  # only a trusted role's evaluations gate a protected alias


@dataclass(frozen=True)
class AliasPolicy:
    """The gate policy registered for an alias of one model. `protected` aliases move only
    through the store's promotion protocol; revision 0 is the built-in default."""

    model: str
    alias: str
    protected: bool
    revision: int
    policy: dict[str, Any]
    set_by: str | None
    set_at: float | None


@dataclass(frozen=True)
class AuditEvent:
    id: int
    ts: float
    actor: str
    action: str
    target_kind: str
    target_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Deployment:
    id: int
    model: str
    alias: str
    strategy: str
    champion_version: int
    challenger_version: int | None
    params: dict[str, Any]
    status: str
    step: int
    challenger_percent: float
    reason: str | None
    created_by: str
    created_at: float
    updated_at: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- team server ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiToken:
    """An API token as stored: never the secret, only its hash and first characters."""

    id: int
    prefix: str
    user: str
    role: str
    team: str | None
    created_by: str
    created_at: float
    expires_at: float | None
    revoked_at: float | None
