"""Guardrails as a pipeline around a chat call: input/output length limits, PII redaction,
blocked terms, and JSON-output validation with one repair retry. Every trigger is an event,
returned with the answer (and recorded by tracing), or carried by the `GuardrailViolation`
raised when a guardrail blocks.

    pipeline = GuardrailPipeline(
        [LengthLimit(max_input_chars=4000), PiiRedaction(), BlockedTerms(["password"])],
        json_output=JsonOutput(schema={"type": "object", "required": ["answer"]}),
    )
    guarded = pipeline.run(lambda msgs: provider.chat(msgs, model="m"), messages)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from loopline.llm._errors import GuardrailViolation
from loopline.llm._jsonout import check_schema, json_problem, strip_fence
from loopline.llm._pii import PII_TYPES, redact
from loopline.llm._provider import ChatResult

STAGES = ("input", "output")
Messages = list[dict[str, str]]


@dataclass(frozen=True)
class GuardrailEvent:
    guardrail: str
    stage: str  # input | output
    action: str  # redacted | truncated | blocked | repaired | invalid
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Guardrail:
    """One check on the text going in (user messages) and coming out."""

    name = "guardrail"

    def on_input(self, text: str) -> tuple[str, list[GuardrailEvent]]:
        return text, []

    def on_output(self, text: str) -> tuple[str, list[GuardrailEvent]]:
        return text, []


class LengthLimit(Guardrail):
    """Block (or truncate) input or output longer than a number of characters."""

    name = "length"

    def __init__(
        self,
        max_input_chars: int | None = None,
        max_output_chars: int | None = None,
        action: str = "block",
    ) -> None:
        if action not in ("block", "truncate"):
            raise ValueError("action must be 'block' or 'truncate'")
        self.limits = {"input": max_input_chars, "output": max_output_chars}
        self.action = action

    def _check(self, text: str, stage: str) -> tuple[str, list[GuardrailEvent]]:
        limit = self.limits[stage]
        if limit is None or len(text) <= limit:
            return text, []
        detail = {"chars": len(text), "limit": limit}
        if self.action == "truncate":
            return text[:limit], [GuardrailEvent(self.name, stage, "truncated", detail)]
        return text, [GuardrailEvent(self.name, stage, "blocked", detail)]

    def on_input(self, text: str) -> tuple[str, list[GuardrailEvent]]:
        return self._check(text, "input")

    def on_output(self, text: str) -> tuple[str, list[GuardrailEvent]]:
        return self._check(text, "output")


class PiiRedaction(Guardrail):
    """Replace emails, phones, cards (Luhn), IBANs (mod 97), SSNs and IPs with `[TYPE]`."""

    name = "pii"

    def __init__(self, types: Iterable[str] = PII_TYPES, stages: Iterable[str] = STAGES) -> None:
        self.types = tuple(types)
        unknown = set(self.types) - set(PII_TYPES)
        if unknown:
            raise ValueError(f"unknown PII type(s) {sorted(unknown)}; known: {PII_TYPES}")
        self.stages = set(stages)

    def _check(self, text: str, stage: str) -> tuple[str, list[GuardrailEvent]]:
        if stage not in self.stages:
            return text, []
        clean, finds = redact(text, self.types)
        if not finds:
            return text, []
        counts: dict[str, int] = {}
        for f in finds:
            counts[f.type] = counts.get(f.type, 0) + 1
        return clean, [GuardrailEvent(self.name, stage, "redacted", {"types": counts})]

    def on_input(self, text: str) -> tuple[str, list[GuardrailEvent]]:
        return self._check(text, "input")

    def on_output(self, text: str) -> tuple[str, list[GuardrailEvent]]:
        return self._check(text, "output")


class BlockedTerms(Guardrail):
    """Block text containing any listed term (whole words, case-insensitive)."""

    name = "blocked_terms"

    def __init__(self, terms: Iterable[str], stages: Iterable[str] = STAGES) -> None:
        self.terms = [t for t in terms if t.strip()]
        self.stages = set(stages)
        alternatives = "|".join(re.escape(t.strip()) for t in self.terms) or r"(?!x)x"
        self._pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.I)

    def _check(self, text: str, stage: str) -> tuple[str, list[GuardrailEvent]]:
        if stage not in self.stages:
            return text, []
        hits = sorted({m.group().lower() for m in self._pattern.finditer(text)})
        if not hits:
            return text, []
        return text, [GuardrailEvent(self.name, stage, "blocked", {"terms": hits})]

    def on_input(self, text: str) -> tuple[str, list[GuardrailEvent]]:
        return self._check(text, "input")

    def on_output(self, text: str) -> tuple[str, list[GuardrailEvent]]:
        return self._check(text, "output")


@dataclass(frozen=True)
class JsonOutput:
    """The answer must be JSON (valid under `schema` if given); one repair call if not."""

    schema: Mapping[str, Any] | None = None
    repair: bool = True

    def __post_init__(self) -> None:
        if self.schema is not None:
            check_schema(self.schema, "JsonOutput guardrail")


@dataclass(frozen=True)
class Guarded:
    text: str
    calls: tuple[ChatResult, ...]
    events: tuple[GuardrailEvent, ...]
    messages: tuple[dict[str, str], ...]  # what was actually sent (after input guards)

    @property
    def result(self) -> ChatResult:
        return self.calls[-1]


def _blocked(events: Sequence[GuardrailEvent]) -> list[GuardrailEvent]:
    return [e for e in events if e.action in ("blocked", "invalid")]


def _violation(stage: str, events: Sequence[GuardrailEvent]) -> GuardrailViolation:
    why = "; ".join(f"{e.guardrail}: {e.detail}" for e in _blocked(events))
    return GuardrailViolation(
        f"guardrails blocked the {stage}: {why}",
        hint="change the request, or the guardrail configuration if this is a false positive",
        details={"events": [e.to_dict() for e in events]},
    )


class GuardrailPipeline:
    def __init__(
        self, guardrails: Sequence[Guardrail] = (), json_output: JsonOutput | None = None
    ) -> None:
        self.guardrails = list(guardrails)
        self.json_output = json_output

    def guard_input(self, text: str) -> tuple[str, list[GuardrailEvent]]:
        events: list[GuardrailEvent] = []
        for g in self.guardrails:
            text, found = g.on_input(text)
            events.extend(found)
        return text, events

    def guard_output(self, text: str) -> tuple[str, list[GuardrailEvent]]:
        events: list[GuardrailEvent] = []
        for g in self.guardrails:
            text, found = g.on_output(text)
            events.extend(found)
        return text, events

    def guard_messages(
        self, messages: Sequence[Mapping[str, str]]
    ) -> tuple[Messages, list[GuardrailEvent]]:
        """Input guards on every user message (system and assistant turns are the app's)."""
        out: Messages = []
        events: list[GuardrailEvent] = []
        for m in messages:
            content = m["content"]
            if m["role"] == "user":
                content, found = self.guard_input(content)
                events.extend(found)
            out.append({"role": m["role"], "content": content})
        return out, events

    def run(
        self, call: Callable[[Messages], ChatResult], messages: Sequence[Mapping[str, str]]
    ) -> Guarded:
        """Guard the input, call, guard the output; raises GuardrailViolation on a block."""
        sent, events = self.guard_messages(messages)
        if _blocked(events):
            raise _violation("input", events)
        calls = [call(sent)]
        text = calls[0].text
        if self.json_output is not None:
            text = self._json(call, sent, calls, text, events)
        text, found = self.guard_output(text)
        events.extend(found)
        if _blocked(found):
            raise _violation("output", events)
        return Guarded(text, tuple(calls), tuple(events), tuple(sent))

    def _json(
        self,
        call: Callable[[Messages], ChatResult],
        sent: Messages,
        calls: list[ChatResult],
        text: str,
        events: list[GuardrailEvent],
    ) -> str:
        assert self.json_output is not None
        schema = self.json_output.schema
        problem = json_problem(text, schema)
        if problem is None:
            return text
        body = strip_fence(text)
        if body is not None and json_problem(body, schema) is None:
            events.append(GuardrailEvent("json", "output", "repaired", {"how": "code fence"}))
            return body
        if self.json_output.repair:
            follow = [
                *sent,
                {"role": "assistant", "content": text},
                {
                    "role": "user",
                    "content": f"Your previous reply was invalid ({problem}). Reply again with "
                    "only the corrected JSON, no other text.",
                },
            ]
            calls.append(call(follow))
            retry = calls[-1].text
            fixed = retry if json_problem(retry, schema) is None else strip_fence(retry)
            if fixed is not None and json_problem(fixed, schema) is None:
                events.append(GuardrailEvent("json", "output", "repaired", {"problem": problem}))
                return fixed
            problem = json_problem(retry, schema) or problem
        events.append(GuardrailEvent("json", "output", "invalid", {"problem": problem}))
        raise _violation("output", events)


__all__ = [
    "BlockedTerms",
    "Guarded",
    "Guardrail",
    "GuardrailEvent",
    "GuardrailPipeline",
    "JsonOutput",
    "LengthLimit",
    "PiiRedaction",
]
