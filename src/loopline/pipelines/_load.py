"""Loading `loopline.yaml`: parse with line marks, validate the models, then check what
pydantic cannot see (references between steps, params, environments, cycles)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from loopline.errors import InvalidInputError
from loopline.pipelines._graph import topological_order
from loopline.pipelines._spec import (
    CiSpec,
    DeploySpec,
    EnvironmentSpec,
    PipelineSpec,
    ScheduleSpec,
    StepSpec,
    TriggerSpec,
)
from loopline.pipelines._yaml import (
    HINT,
    PipelineSpecError,
    dotted,
    error_for,
    line_of,
    load_marked,
    unknown_key,
)

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
_NEEDS = {
    "validate": ("contract", "name the data contract file, e.g. contract: contract.yaml"),
    "register": ("model", "name the registered model, e.g. model: churn"),
    "promote": ("model", "name the registered model, e.g. model: churn"),
}
_SHAPES: dict[tuple[str, ...], type[BaseModel]] = {
    (): PipelineSpec,
    ("steps", "*"): StepSpec,
    ("environments", "*"): EnvironmentSpec,
    ("environments", "*", "deploy"): DeploySpec,
    ("schedule",): ScheduleSpec,
    ("triggers", "#"): TriggerSpec,
    ("ci",): CiSpec,
}


def _check_inline_policy(spec: PipelineSpec, env: str, marks: dict[Any, int]) -> None:
    """An inline gate policy's keys and rules, each named by its own line: the policy is a
    plain mapping to pydantic, so its typos need the same did-you-mean here."""
    from loopline.gates import GatePolicy, parse_rule

    policy = spec.environments[env].policy
    if not isinstance(policy, dict):
        return
    base: tuple[str | int, ...] = ("environments", env, "policy")
    levels: list[tuple[tuple[str | int, ...], Any, list[str]]] = [
        (base, policy, list(GatePolicy().to_dict())),
        ((*base, "approvals"), policy.get("approvals"), ["count", "role"]),
    ]
    for path, mapping, known in levels:
        for key in mapping if isinstance(mapping, dict) else ():
            if key not in known:
                where = f"{spec.source}:{line_of(marks, (*path, key))}"
                raise unknown_key(where, str(key), path, known)
    rules = policy.get("rules")
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        if not isinstance(rule, str):
            continue  # the policy's own check says what a rule must be
        try:
            parse_rule(rule)
        except InvalidInputError as exc:
            path = (*base, "rules", i)
            raise PipelineSpecError(
                f"{spec.source}:{line_of(marks, path)}: {dotted(path)}: {exc.message}",
                hint=exc.hint,
            ) from None


def _error(
    spec: PipelineSpec, marks: dict[Any, int], path: tuple[str | int, ...], why: str, hint: str
) -> PipelineSpecError:
    """A mistake in the spec, named by the line of `path` in the file."""
    return PipelineSpecError(f"{spec.source}:{line_of(marks, path)}: {why}", hint=hint)


def _named_file_error(
    spec: PipelineSpec,
    marks: dict[Any, int],
    path: tuple[str | int, ...],
    file: Path | None,
    exc: InvalidInputError,
) -> PipelineSpecError:
    """A mistake inside a file the spec names (its contract, a gate policy file), located
    once per file: that file's own location first (where to fix it), then where the spec
    names it — not `loopline.yaml:9: contract.yaml:14: ...`, two locations in a row."""
    named_at = f"{spec.source}:{line_of(marks, path)}"
    if file is not None and exc.message.startswith(str(file)):
        return PipelineSpecError(
            f"{exc.message} (named at {named_at}: {dotted(path)})", hint=exc.hint
        )
    return PipelineSpecError(f"{named_at}: {exc.message}", hint=exc.hint)


def _policy_key_path(
    marks: dict[Any, int], base: tuple[str | int, ...], message: str
) -> tuple[str | int, ...]:
    """The line of the inline policy key a policy message quotes ('approvals.count'), so
    the location points at the value to fix rather than at the environment."""
    quoted = re.search(r"'([A-Za-z_][\w.]*)'", message)
    if quoted:
        path = (*base, *quoted[1].split("."))
        if path in marks:
            return path
    return base


def _check_policies(spec: PipelineSpec, marks: dict[Any, int]) -> None:
    """Each environment's gate policy, inline or a file, loads as the runner will load it."""
    for name, env in spec.environments.items():
        _check_inline_policy(spec, name, marks)
        at: tuple[str | int, ...] = ("environments", name, "policy")
        file = spec.path(env.policy) if isinstance(env.policy, str) else None
        if file is not None and not file.is_file():
            raise _error(
                spec,
                marks,
                at,
                f"{dotted(at)}: gate policy file {file} does not exist",
                "a policy path is relative to the folder of loopline.yaml; or write the "
                "policy inline under 'policy:'",
            )
        try:
            spec.gate_policy(name)
        except InvalidInputError as exc:
            if isinstance(env.policy, dict):  # the message names the key: point at its line
                where = f"{spec.source}:{line_of(marks, _policy_key_path(marks, at, exc.message))}"
                raise PipelineSpecError(f"{where}: {exc.message}", hint=exc.hint) from None
            raise _named_file_error(spec, marks, at, file, exc) from None


def _check_graph(spec: PipelineSpec, marks: dict[Any, int]) -> None:
    """References, names and environments that pydantic cannot see on its own."""
    for name, step in spec.steps.items():
        _check_step(spec, marks, name, step)
    if spec.contract is not None:
        from loopline.data import load_contract

        contract = spec.path(spec.contract)
        try:
            load_contract(contract)  # a broken contract fails here, not mid-run
        except InvalidInputError as exc:
            raise _named_file_error(spec, marks, ("contract",), contract, exc) from None
    _check_policies(spec, marks)
    for i, trig in enumerate(spec.triggers):
        if trig.param is not None and trig.param not in spec.params:
            raise _error(
                spec,
                marks,
                ("triggers", i),
                f"trigger param {trig.param!r} is not a declared param",
                "add it under 'params:'",
            )
        if trig.on in ("drift", "performance") and spec.model is None:
            raise _error(
                spec,
                marks,
                ("triggers", i),
                f"'on: {trig.on}' needs the pipeline's 'model:'",
                "name the registered model the monitor watches",
            )
    try:
        topological_order(spec)
    except InvalidInputError as exc:
        raise _error(spec, marks, ("steps",), exc.message, exc.hint) from None


def _check_step(spec: PipelineSpec, marks: dict[Any, int], name: str, step: StepSpec) -> None:
    """One step's name, and what it names: upstream outputs, params, its environment, the
    pipeline keys its `uses:` needs."""

    def bad(path: tuple[str | int, ...], why: str, hint: str) -> PipelineSpecError:
        return _error(spec, marks, path, why, hint)

    if not _NAME.fullmatch(name):
        raise bad(
            ("steps", name), f"step name {name!r} is not allowed", "use letters, digits, _ or -"
        )
    for arg, ref in step.inputs.items():
        up, out = ref.split(".")
        where = ("steps", name, "inputs", arg)
        if up not in spec.steps:
            raise bad(
                where,
                f"step {name!r} input {arg!r} names unknown step {up!r}",
                f"steps are: {', '.join(spec.steps)}",
            )
        if out not in spec.steps[up].output_names:
            raise bad(
                where,
                f"step {name!r} input {arg!r}: step {up!r} has no output {out!r}",
                f"its outputs are: {', '.join(spec.steps[up].output_names) or 'none'}",
            )
    for p in step.params:
        if p not in spec.params:
            raise bad(
                ("steps", name, "params"),
                f"step {name!r} uses param {p!r}, which the pipeline does not declare",
                f"add it under 'params:' (declared: {', '.join(spec.params) or 'none'})",
            )
    if step.to is not None and step.to not in spec.environments:
        raise bad(
            ("steps", name, "to"),
            f"step {name!r} names unknown environment {step.to!r}",
            f"environments are: {', '.join(spec.environments) or 'none'}",
        )
    if step.uses is not None and getattr(spec, _NEEDS[step.uses][0]) is None:
        key, hint = _NEEDS[step.uses]
        raise bad(("steps", name), f"'uses: {step.uses}' needs the pipeline's '{key}:'", hint)
    if step.uses == "promote" and "data" in step.inputs and spec.target is None:
        raise bad(
            ("steps", name, "inputs"),
            "promote on hold-out 'data' needs the pipeline's 'target:'",
            "name the label column, e.g. target: churn",
        )


def parse_pipeline(text: str, source: str = "<pipeline>", root: str | Path = ".") -> PipelineSpec:
    data, marks = load_marked(text, source)
    if not isinstance(data, dict):
        raise PipelineSpecError(
            f"{source}:1: a pipeline is a mapping (name:, steps:, …)", hint=HINT
        )
    for reserved in ("source", "root"):
        if reserved in data:
            raise PipelineSpecError(
                f"{source}:{marks[(reserved,)]}: unknown key {reserved!r}",
                hint=HINT,
            )
    try:
        spec = PipelineSpec.model_validate({**data, "source": source, "root": str(root)})
    except ValidationError as exc:
        raise error_for(exc, marks, source, _SHAPES) from None
    _check_graph(spec, marks)
    return spec


def load_pipeline(path: str | Path | None = None) -> PipelineSpec:
    """The spec at `path`: a YAML file, or a folder holding `loopline.yaml` (default: cwd)."""
    p = Path(path) if path is not None else Path("loopline.yaml")
    if p.is_dir():
        p = p / "loopline.yaml"
    if not p.is_file():
        raise PipelineSpecError(
            f"pipeline file {str(p)!r} does not exist",
            hint="pass the path of a loopline.yaml (see docs/pipelines.md for the format)",
        )
    return parse_pipeline(p.read_text(encoding="utf-8"), str(p), p.parent)


__all__ = ["load_pipeline", "parse_pipeline"]
