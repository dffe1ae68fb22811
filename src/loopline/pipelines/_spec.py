"""The pipeline spec, `loopline.yaml`: steps, params, contract, environments, schedule,
triggers. Parsed strictly: an unknown key, a reference to a missing step or output, a
cycle or a bad cron expression is refused with the file, line and key.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from loopline._cron import parse_cron
from loopline.errors import InvalidInputError
from loopline.gates import GatePolicy

BUILTINS = ("validate", "register", "promote")
BUILTIN_OUTPUTS = {"validate": ["data", "report"], "register": ["version"], "promote": ["version"]}
TRIGGERS = ("drift", "performance", "new-data")
_TARGET = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StepSpec(_Model):
    name: str = Field("", exclude=True)  # the key under 'steps:'
    description: str | None = None
    run: str | None = None  # module:function
    uses: Literal["validate", "register", "promote"] | None = None
    to: str | None = None  # register/promote: the environment
    inputs: dict[str, str] = Field(default_factory=dict)  # argument -> "step.output"
    params: list[str] = Field(default_factory=list)
    outputs: list[str] = Field(default_factory=list)
    retryable: bool = False
    retries: int = Field(default=2, ge=0, le=10)
    backoff_s: float = Field(default=1.0, ge=0, le=300)
    cache: bool = True

    @field_validator("run")
    @classmethod
    def _target(cls, value: str | None) -> str | None:
        if value is not None and not _TARGET.fullmatch(value):
            raise ValueError("must be 'module:function', e.g. 'steps:train'")
        return value

    @field_validator("inputs")
    @classmethod
    def _refs(cls, value: dict[str, str]) -> dict[str, str]:
        for arg, ref in value.items():
            if ref.count(".") != 1 or not all(ref.split(".")):
                raise ValueError(f"input {arg!r}: {ref!r} must be 'step.output'")
        return value

    @model_validator(mode="after")
    def _kind(self) -> StepSpec:
        if (self.run is None) == (self.uses is None):
            raise ValueError("a step needs exactly one of 'run: module:function' or 'uses: ...'")
        if self.uses is not None:
            if self.outputs and self.outputs != BUILTIN_OUTPUTS[self.uses]:
                raise ValueError(f"'uses: {self.uses}' outputs {BUILTIN_OUTPUTS[self.uses]}")
            if self.uses == "promote" and self.to is None:
                raise ValueError("'uses: promote' needs 'to: <environment>'")
            if self.uses == "validate" and "data" not in self.inputs:
                raise ValueError("'uses: validate' needs the input 'data'")
            if self.uses == "register" and "model" not in self.inputs:
                raise ValueError("'uses: register' needs the input 'model'")
            if self.uses == "promote" and set(self.inputs) - {"version", "data"}:
                raise ValueError("'uses: promote' takes only the inputs 'version' and 'data'")
        elif self.to is not None:
            raise ValueError("'to' applies to 'uses: register' and 'uses: promote' only")
        if len(set(self.outputs)) != len(self.outputs):
            raise ValueError("output names must be unique")
        if any(not o.isidentifier() for o in [*self.outputs, *self.inputs]):
            raise ValueError("input and output names must be identifiers, e.g. 'train_set'")
        return self

    @property
    def kind(self) -> str:
        return self.uses or "python"

    @property
    def output_names(self) -> list[str]:
        return BUILTIN_OUTPUTS[self.uses] if self.uses else list(self.outputs)

    @property
    def upstream(self) -> list[str]:
        return list(dict.fromkeys(ref.split(".")[0] for ref in self.inputs.values()))


class DeploySpec(_Model):
    strategy: Literal["direct", "canary", "blue_green", "shadow"] = "direct"
    steps: list[float] = Field(default_factory=lambda: [5.0, 25.0, 100.0])
    step_duration_s: float = Field(default=30.0, gt=0)


class EnvironmentSpec(_Model):
    name: str = Field("", exclude=True)  # the key under 'environments:'
    alias: str | None = None  # default: the environment's name
    policy: str | dict[str, Any] | None = None  # a gate policy file or the policy inline
    approval: bool = False  # a person approves before a version enters
    deploy: DeploySpec = Field(default_factory=lambda: DeploySpec())
    color: str | None = None

    @property
    def alias_name(self) -> str:
        return self.alias or self.name


class ScheduleSpec(_Model):
    cron: str
    timezone: str = "UTC"

    @field_validator("cron")
    @classmethod
    def _valid(cls, value: str) -> str:
        try:
            parse_cron(value)
        except InvalidInputError as exc:
            raise ValueError(exc.message) from None
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use a name like Europe/Paris") from None
        return value


class TriggerSpec(_Model):
    on: Literal["drift", "performance", "new-data"]
    dataset: str | None = None  # new-data: the dataset name whose versions start a run
    param: str | None = None  # new-data: the param that receives the new version's fingerprint

    @model_validator(mode="after")
    def _dataset(self) -> TriggerSpec:
        if self.on == "new-data" and not self.dataset:
            raise ValueError("'on: new-data' needs 'dataset: <name>'")
        return self


class CiSpec(_Model):
    python: str = "3.11"
    install: str | None = None  # default: from pyproject.toml / requirements.txt
    tests: str = "python -m pytest -q"
    pr_params: dict[str, Any] = Field(default_factory=dict)  # small-sample training on PRs


class PipelineSpec(_Model):
    name: str
    description: str | None = None
    model: str | None = None  # the registered model the pipeline produces
    target: str | None = None  # label column, for gates that evaluate on hold-out data
    contract: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    environments: dict[str, EnvironmentSpec] = Field(default_factory=dict)
    steps: dict[str, StepSpec]
    schedule: ScheduleSpec | None = None
    triggers: list[TriggerSpec] = Field(default_factory=list)
    ci: CiSpec = Field(default_factory=lambda: CiSpec())
    source: str = Field("", exclude=True)  # path of the file, set by the loader
    root: str = Field(".", exclude=True)  # folder the file's relative paths resolve against

    @field_validator("schedule", mode="before")
    @classmethod
    def _schedule(cls, value: Any) -> Any:
        return {"cron": value} if isinstance(value, str) else value

    @field_validator("triggers", mode="before")
    @classmethod
    def _triggers(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"on": v} if isinstance(v, str) else v for v in value]
        return value

    @model_validator(mode="before")
    @classmethod
    def _names(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in ("steps", "environments"):
                if isinstance(data.get(key), dict):
                    data = {
                        **data,
                        key: {
                            n: {**v, "name": n} if isinstance(v, dict) else v
                            for n, v in data[key].items()
                        },
                    }
        return data

    def step(self, name: str) -> StepSpec:
        if name not in self.steps:
            raise InvalidInputError(
                f"pipeline {self.name!r} has no step {name!r}",
                hint=f"steps are: {', '.join(self.steps)}",
            )
        return self.steps[name]

    def path(self, relative: str) -> Path:
        p = Path(relative)
        return p if p.is_absolute() else Path(self.root) / p

    def environment_before(self, env: str) -> EnvironmentSpec | None:
        names = list(self.environments)
        i = names.index(env)
        return self.environments[names[i - 1]] if i > 0 else None

    def gate_policy(self, env: str) -> GatePolicy:
        """The environment's gate; `approval: true` adds (at least) one approver."""
        spec = self.environments[env]
        if spec.policy is None:
            policy = GatePolicy(name=env)
        elif isinstance(spec.policy, dict):
            # named by its place in the file: the loader adds the file and line
            policy = GatePolicy.from_dict(
                {"name": env, **spec.policy}, f"environments.{env}.policy"
            )
        else:
            policy = GatePolicy.from_yaml(self.path(spec.policy))
        if spec.approval and policy.approvals_count < 1:
            role = policy.approvals_role or "approver"
            policy = GatePolicy(policy.name, policy.rules, policy.require_validation, 1, role)
        return policy


__all__ = [
    "BUILTINS",
    "TRIGGERS",
    "CiSpec",
    "DeploySpec",
    "EnvironmentSpec",
    "PipelineSpec",
    "ScheduleSpec",
    "StepSpec",
    "TriggerSpec",
]
