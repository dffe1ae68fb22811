"""Records of the registry: models, versions, alias moves, approvals, gate decisions,
evaluations and alias policies; and the rules a model name and an alias follow."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from loopline.errors import InvalidInputError

_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_ALIAS = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


def check_model_name(name: str) -> str:
    if not isinstance(name, str) or not _MODEL_NAME.fullmatch(name):
        raise InvalidInputError(
            f"model name {name!r} is not allowed",
            hint="use letters, digits, '.', '_' or '-' (up to 128 characters), e.g. 'churn'",
        )
    return name


def check_alias(alias: str) -> str:
    if not isinstance(alias, str) or not _ALIAS.fullmatch(alias) or alias.isdigit():
        raise InvalidInputError(
            f"alias {alias!r} has illegal characters",
            hint="aliases are lower-case letters, digits, '_' or '-', starting with a letter, "
            "e.g. production, staging, champion",
        )
    return alias


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


__all__ = [
    "AliasMove",
    "AliasPolicy",
    "Approval",
    "EvaluationRecord",
    "GateDecisionRecord",
    "ModelVersion",
    "RegisteredModel",
    "check_alias",
    "check_model_name",
]
