"""Evaluators: one check of one answer, each a pass/fail with a score and a reason.

Check specs (`type` and its keys; `value` defaults to the case's `expected`):
- exact {value, ignore_case}: the trimmed answer equals value.
- contains / not_contains {value, ignore_case}: value is (not) in the answer.
- regex {pattern}: re.search(pattern, answer) finds a match.
- json_schema {schema}: the answer is JSON, valid under schema when one is given.
- numeric {value, tolerance, relative, key}: |number in the answer - value| <= tolerance
  (relative: tolerance times |value|; key: a dotted path into a JSON answer).
- similarity {value, threshold=0.8}: cosine of all-MiniLM-L6-v2 embeddings >= threshold.
- judge {rubric, threshold=4, model}: an LLM grader's 1-5 score >= threshold.
- latency {max_ms} / cost {max_usd}: the call's latency / cost within the bound.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from loopline.errors import InvalidInputError, LooplineError
from loopline.llm._embeddings import Embedder
from loopline.llm._evalset import EvalCase
from loopline.llm._jsonout import check_schema, json_problem, strip_fence
from loopline.llm._provider import ChatProvider

TYPES = (
    "exact", "contains", "not_contains", "regex", "json_schema",
    "numeric", "similarity", "judge", "latency", "cost",
)  # fmt: skip
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
JUDGE_SYSTEM = (
    "You grade an assistant's answer against a rubric. Reply with only a JSON object "
    '{"score": <integer 1-5>, "reason": "<one sentence>"}; 5 fully meets the rubric, '
    "1 does not meet it at all."
)


@dataclass(frozen=True)
class CheckResult:
    check: str
    passed: bool
    score: float
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Answer:
    """What an evaluator looks at: the text and how the call went."""

    text: str
    latency_ms: float = 0.0
    cost_usd: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0


@dataclass
class Judges:
    """Shared, lazily created helpers: the embedding model and the judge provider."""

    judge: ChatProvider | None = None
    judge_model: str | None = None
    embedder: Embedder | None = None

    def embeddings(self) -> Embedder:
        if self.embedder is None:
            self.embedder = Embedder()
        return self.embedder


def _bad(where: str, why: str) -> InvalidInputError:
    return InvalidInputError(
        f"{where}: {why}", hint=f"check types are {', '.join(TYPES)} (see docs/llmops.md)"
    )


def validate_check(spec: Mapping[str, Any], case: EvalCase, where: str) -> None:
    """Refuse a malformed check before any provider call is made."""
    kind = spec.get("type")
    if kind not in TYPES:
        raise _bad(where, f"unknown check type {kind!r}")
    needs_value = kind in ("exact", "numeric", "similarity")
    if needs_value and "value" not in spec and case.expected is None:
        raise _bad(where, f"check {kind!r} needs 'value' or the case's 'expected'")
    if kind in ("contains", "not_contains") and not isinstance(spec.get("value"), str):
        raise _bad(where, f"check {kind!r} needs a string 'value'")
    if kind == "regex":
        try:
            re.compile(str(spec.get("pattern", "")))
        except re.error as exc:
            raise _bad(where, f"regex {spec.get('pattern')!r} does not compile: {exc}") from None
    if kind == "json_schema" and spec.get("schema") is not None:
        check_schema(spec["schema"], where)
    if kind == "judge" and not (spec.get("rubric") or case.rubric):
        raise _bad(where, "check 'judge' needs a 'rubric' (on the check or the case)")
    if kind == "latency" and not isinstance(spec.get("max_ms"), int | float):
        raise _bad(where, "check 'latency' needs a number 'max_ms'")
    if kind == "cost" and not isinstance(spec.get("max_usd"), int | float):
        raise _bad(where, "check 'cost' needs a number 'max_usd'")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _fold(text: str, spec: Mapping[str, Any]) -> str:
    return text.lower() if spec.get("ignore_case") else text


def _number(text: str, key: str | None) -> float | None:
    if key is not None:
        try:
            value: Any = json.loads(strip_fence(text) or text)
            for part in key.split("."):
                value = value[int(part)] if isinstance(value, list) else value[part]
            return float(value)
        except (ValueError, KeyError, IndexError, TypeError):
            return None
    m = _NUMBER.search(text)
    return float(m.group()) if m else None


def run_check(
    spec: Mapping[str, Any], case: EvalCase, answer: Answer, judges: Judges
) -> CheckResult:
    """Judge `answer` by one check spec (already validated)."""
    kind = str(spec["type"])
    out = answer.text
    value = spec.get("value", case.expected)
    if kind == "exact":
        ok = _fold(out.strip(), spec) == _fold(_text(value).strip(), spec)
        return CheckResult(
            kind, ok, float(ok), "equal" if ok else f"expected {_text(value)!r}, got {out[:120]!r}"
        )
    if kind in ("contains", "not_contains"):
        found = _fold(str(value), spec) in _fold(out, spec)
        ok = found if kind == "contains" else not found
        return CheckResult(kind, ok, float(ok), f"{value!r} {'found' if found else 'not found'}")
    if kind == "regex":
        ok = re.search(str(spec["pattern"]), out) is not None
        return CheckResult(
            kind, ok, float(ok), f"/{spec['pattern']}/ {'matches' if ok else 'does not match'}"
        )
    if kind == "json_schema":
        problem = json_problem(out, spec.get("schema"))
        return CheckResult(kind, problem is None, float(problem is None), problem or "valid JSON")
    if kind == "numeric":
        got = _number(out, spec.get("key"))
        want = float(value)
        tol = float(spec.get("tolerance", 0.0)) * (abs(want) if spec.get("relative") else 1.0)
        if got is None:
            return CheckResult(kind, False, 0.0, "no number in the answer")
        ok = math.isfinite(got) and abs(got - want) <= tol
        return CheckResult(kind, ok, float(ok), f"{got:g} vs {want:g} ± {tol:g}")
    if kind == "similarity":
        sim = judges.embeddings().similarity(out, _text(value))
        threshold = float(spec.get("threshold", 0.8))
        ok = sim >= threshold
        return CheckResult(kind, ok, sim, f"cosine {sim:.3f} {'>=' if ok else '<'} {threshold}")
    if kind == "judge":
        return _judge(spec, case, out, judges)
    if kind == "latency":
        ok = answer.latency_ms <= float(spec["max_ms"])
        return CheckResult(
            kind, ok, answer.latency_ms, f"{answer.latency_ms:.0f} ms vs {spec['max_ms']} ms"
        )
    ok = answer.cost_usd <= float(spec["max_usd"])
    return CheckResult(kind, ok, answer.cost_usd, f"${answer.cost_usd:.6f} vs ${spec['max_usd']}")


def _judge(spec: Mapping[str, Any], case: EvalCase, out: str, judges: Judges) -> CheckResult:
    if judges.judge is None:
        return CheckResult("judge", False, 0.0, "no judge provider configured")
    rubric = spec.get("rubric") or case.rubric
    user = (
        f"Rubric: {rubric}\nInputs: {json.dumps(case.vars, sort_keys=True)}\n"
        + (f"Reference answer: {_text(case.expected)}\n" if case.expected is not None else "")
        + f"Answer to grade:\n{out}"
    )
    messages = [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": user}]
    try:
        reply = judges.judge.chat(
            messages, model=spec.get("model") or judges.judge_model, temperature=0
        )
        verdict = json.loads(strip_fence(reply.text) or reply.text)
        score = float(verdict["score"])
        reason = str(verdict.get("reason", ""))
    except LooplineError as exc:
        return CheckResult("judge", False, 0.0, f"judge call failed: {exc.message}")
    except (ValueError, KeyError, TypeError):
        return CheckResult("judge", False, 0.0, "judge reply was not {score, reason} JSON")
    threshold = float(spec.get("threshold", 4))
    return CheckResult("judge", score >= threshold, score, f"score {score:g}/5: {reason}")


__all__ = ["TYPES", "Answer", "CheckResult", "Judges", "run_check", "validate_check"]
