"""The prompt registry: versioned chat templates with variables and model parameters.

A template is plain data (system/user/assistant messages whose text may use `{{variable}}`,
the model name and its parameters such as temperature). It is registered as a version of
flavor `prompt`, so `prompts:/support-reply@production` resolves, is gated, approved,
canaried and rolled back exactly like `models:/churn@production`.

    version = register_prompt("support-reply", {"messages": [...], "model": "gpt-4o-mini"})
    prompt = load_prompt("prompts:/support-reply@production")
    messages = prompt.format(customer="Ada", question="Where is my order?")
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from loopline._yaml import safe_load
from loopline.errors import InvalidInputError
from loopline.llm._package import load_package, register_package
from loopline.llm._uri import PROMPTS, model_uri
from loopline.store import ModelVersion

FLAVOR = "prompt"
ROLES = ("system", "user", "assistant")
_VAR = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_KEYS = {"messages", "model", "params", "description"}


def _bad(source: str, why: str) -> InvalidInputError:
    return InvalidInputError(
        f"prompt {source}: {why}",
        hint="a prompt is {messages: [{role: system|user|assistant, content: ...}], "
        "model: NAME, params: {temperature: ...}}; variables are written {{name}}",
    )


@dataclass(frozen=True)
class Message:
    role: str
    content: str


@dataclass(frozen=True)
class PromptTemplate:
    """Messages with `{{variables}}`, the model to call and its parameters."""

    messages: tuple[Message, ...]
    model: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    @property
    def variables(self) -> tuple[str, ...]:
        """Variable names in order of first use."""
        seen: dict[str, None] = {}
        for m in self.messages:
            for name in _VAR.findall(m.content):
                seen.setdefault(name, None)
        return tuple(seen)

    def format(self, **variables: Any) -> list[dict[str, str]]:
        """Chat messages with every `{{variable}}` filled; a missing or unknown one raises."""
        wanted = set(self.variables)
        missing = sorted(wanted - set(variables))
        unknown = sorted(set(variables) - wanted)
        if missing or unknown:
            parts = [f"missing {', '.join(missing)}" if missing else ""]
            parts.append(f"unknown {', '.join(unknown)}" if unknown else "")
            raise InvalidInputError(
                f"prompt variables: {'; '.join(p for p in parts if p)}",
                hint=f"pass exactly: {', '.join(self.variables) or 'no variables'}",
            )

        def fill(text: str) -> str:
            return _VAR.sub(lambda m: str(variables[m.group(1)]), text)

        return [{"role": m.role, "content": fill(m.content)} for m in self.messages]

    def to_dict(self) -> dict[str, Any]:
        return {
            "messages": [{"role": m.role, "content": m.content} for m in self.messages],
            "model": self.model,
            "params": dict(self.params),
            "description": self.description,
        }

    def to_json(self) -> bytes:
        """Canonical bytes: the same template always has the same sha256."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_dict(cls, data: Any, source: str = "template") -> PromptTemplate:
        if not isinstance(data, Mapping):
            raise _bad(source, "must be a mapping with a 'messages' list")
        unknown = sorted(set(data) - _KEYS)
        if unknown:
            raise _bad(source, f"unknown key(s) {', '.join(unknown)}; known: {sorted(_KEYS)}")
        raw = data.get("messages")
        if not isinstance(raw, list) or not raw:
            raise _bad(source, "'messages' must be a non-empty list")
        messages = []
        for i, m in enumerate(raw, 1):
            if not isinstance(m, Mapping) or set(m) != {"role", "content"}:
                raise _bad(source, f"message {i} must have exactly 'role' and 'content'")
            if m["role"] not in ROLES or not isinstance(m["content"], str):
                raise _bad(source, f"message {i}: role must be one of {ROLES}, content a string")
            messages.append(Message(m["role"], m["content"]))
        model = data.get("model")
        params = data.get("params") or {}
        if model is not None and not isinstance(model, str):
            raise _bad(source, "'model' must be a string")
        if not isinstance(params, Mapping):
            raise _bad(source, "'params' must be a mapping such as {temperature: 0}")
        try:
            json.dumps(dict(params))
        except (TypeError, ValueError):
            raise _bad(source, "'params' must be plain JSON values") from None
        return cls(tuple(messages), model, dict(params), str(data.get("description") or ""))

    @classmethod
    def from_file(cls, path: str | Path) -> PromptTemplate:
        p = Path(path)
        try:
            data = safe_load(p.read_text(), f"prompt file {p}")  # YAML is a superset of JSON
        except FileNotFoundError:
            raise InvalidInputError(
                f"prompt file {p} does not exist", hint="check the path"
            ) from None
        except yaml.YAMLError as exc:
            raise InvalidInputError(
                f"prompt file {p} is not valid YAML/JSON: {exc}", hint="fix it"
            ) from None
        return cls.from_dict(data, str(p))

    def pretty(self) -> str:
        """A readable rendering, one section per message: what `diff` compares."""
        lines = [f"model: {self.model}", f"params: {json.dumps(self.params, sort_keys=True)}"]
        if self.description:
            lines.append(f"description: {self.description}")
        for m in self.messages:
            lines.append(f"--- {m.role}")
            lines.extend(m.content.splitlines() or [""])
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Prompt:
    """A registered prompt version: its template plus where it lives in the registry."""

    name: str
    version: int
    template: PromptTemplate
    sha256: str
    aliases: tuple[str, ...] = ()

    @property
    def uri(self) -> str:
        return f"{PROMPTS}{self.name}/{self.version}"

    @property
    def model(self) -> str | None:
        return self.template.model

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.template.params)

    @property
    def variables(self) -> tuple[str, ...]:
        return self.template.variables

    def format(self, **variables: Any) -> list[dict[str, str]]:
        return self.template.format(**variables)


def _template(source: PromptTemplate | Mapping[str, Any] | str | Path) -> PromptTemplate:
    if isinstance(source, PromptTemplate):
        return source
    if isinstance(source, str | Path):
        return PromptTemplate.from_file(source)
    return PromptTemplate.from_dict(source)


def register_prompt(
    name: str,
    template: PromptTemplate | Mapping[str, Any] | str | Path,
    *,
    experiment: str = "llm.prompts",
    card: Mapping[str, Any] | None = None,
) -> ModelVersion:
    """Register `template` (object, mapping or YAML/JSON file) as the next version of `name`."""
    t = _template(template)
    return register_package(
        name,
        FLAVOR,
        t.to_json(),
        experiment=experiment,
        params={"prompt": name, "model": t.model, "variables": ",".join(t.variables)},
        meta={"variables": list(t.variables), "model": t.model},
        card={"intended_use": t.description, **dict(card or {})},
    )


def version_of(uri: str) -> ModelVersion:
    """The registry version a `prompts:/` URI names now."""
    from loopline.registry import get_version

    return get_version(model_uri(uri, PROMPTS))


def prompt_from(version: ModelVersion, data: bytes) -> Prompt:
    try:
        template = PromptTemplate.from_dict(json.loads(data), version.uri)
    except json.JSONDecodeError:
        raise InvalidInputError(
            f"{version.uri} is not a prompt template", hint="re-register it"
        ) from None
    return Prompt(version.model, version.version, template, version.sha256, version.aliases)


def load_prompt(uri: str) -> Prompt:
    """`prompts:/name@alias`, `prompts:/name/N` or `prompts:/name/latest`, sha256-verified."""
    version, data = load_package(model_uri(uri, PROMPTS), FLAVOR, "prompt")
    return prompt_from(version, data)


def diff_prompts(a: str | Prompt, b: str | Prompt) -> str:
    """A unified diff between two prompt versions (model, params and every message)."""
    pa = load_prompt(a) if isinstance(a, str) else a
    pb = load_prompt(b) if isinstance(b, str) else b
    return "".join(
        difflib.unified_diff(
            pa.template.pretty().splitlines(keepends=True),
            pb.template.pretty().splitlines(keepends=True),
            fromfile=pa.uri,
            tofile=pb.uri,
        )
    )


__all__ = [
    "FLAVOR",
    "Message",
    "Prompt",
    "PromptTemplate",
    "diff_prompts",
    "load_prompt",
    "prompt_from",
    "register_prompt",
    "version_of",
]
