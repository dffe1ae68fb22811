"""Eval sets: JSON Lines files of cases, versioned by content fingerprint.

One case per line:

    {"id": "refund-1", "vars": {"question": "Can I get a refund?"},
     "expected": "yes", "tags": ["billing"],
     "checks": [{"type": "json_schema", "schema": {...}}, {"type": "contains", "value": "refund"}]}

`vars` fill the prompt's `{{variables}}`; `checks` are evaluator specs (see `_evaluators`);
a case without checks is judged by exact match against `expected`. When an eval run logs the
set, it becomes a dataset version (fingerprint, row count, source) linked to the run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from loopline.errors import InvalidInputError

_KEYS = {"id", "vars", "expected", "checks", "tags", "rubric"}


@dataclass(frozen=True)
class EvalCase:
    id: str
    vars: dict[str, Any]
    expected: Any = None
    checks: tuple[dict[str, Any], ...] = ()
    tags: tuple[str, ...] = ()
    rubric: str | None = None


@dataclass(frozen=True)
class EvalSet:
    name: str
    cases: tuple[EvalCase, ...]
    source: str | None = None
    _frame: list[pd.DataFrame] = field(default_factory=list, repr=False, compare=False)

    def frame(self) -> pd.DataFrame:
        """One row per case (JSON text columns): what is fingerprinted and logged."""
        if not self._frame:
            self._frame.append(
                pd.DataFrame(
                    {
                        "id": [c.id for c in self.cases],
                        "vars": [json.dumps(c.vars, sort_keys=True) for c in self.cases],
                        "expected": [json.dumps(c.expected, sort_keys=True) for c in self.cases],
                        "checks": [json.dumps(list(c.checks), sort_keys=True) for c in self.cases],
                        "tags": [",".join(c.tags) for c in self.cases],
                        "rubric": [c.rubric or "" for c in self.cases],
                    }
                )
            )
        return self._frame[0]

    @property
    def fingerprint(self) -> str:
        from loopline.data import fingerprint

        return fingerprint(self.frame())


def _bad(where: str, why: str) -> InvalidInputError:
    return InvalidInputError(
        f"eval set {where}: {why}",
        hint='each line is {"id": ..., "vars": {...}, "expected": ..., "checks": [...]}',
    )


def parse_case(data: Any, where: str, index: int) -> EvalCase:
    if not isinstance(data, Mapping):
        raise _bad(where, "a case must be a JSON object")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise _bad(where, f"unknown key(s) {', '.join(unknown)}; known: {sorted(_KEYS)}")
    variables = data.get("vars", {})
    checks = data.get("checks", [])
    tags = data.get("tags", [])
    if not isinstance(variables, Mapping):
        raise _bad(where, "'vars' must be an object of variable values")
    if not isinstance(checks, list) or not all(
        isinstance(c, Mapping) and "type" in c for c in checks
    ):
        raise _bad(where, "'checks' must be a list of objects with a 'type'")
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise _bad(where, "'tags' must be a list of strings")
    if not checks and "expected" not in data and not data.get("rubric"):
        raise _bad(where, "a case needs 'expected', 'checks' or a 'rubric' to be judged by")
    return EvalCase(
        id=str(data.get("id", f"case-{index}")),
        vars=dict(variables),
        expected=data.get("expected"),
        checks=tuple(dict(c) for c in checks),
        tags=tuple(tags),
        rubric=data.get("rubric"),
    )


def eval_set_from_cases(name: str, cases: Sequence[Mapping[str, Any]]) -> EvalSet:
    parsed = tuple(parse_case(c, f"{name} case {i}", i) for i, c in enumerate(cases, 1))
    ids = [c.id for c in parsed]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise _bad(name, f"duplicate case id(s) {', '.join(dupes)}")
    if not parsed:
        raise _bad(name, "has no cases")
    return EvalSet(name, parsed)


def load_eval_set(path: str | Path, name: str | None = None) -> EvalSet:
    """Read a JSONL eval set; errors name the file and line."""
    p = Path(path)
    if not p.exists():
        raise InvalidInputError(f"eval set {p} does not exist", hint="check the --set path")
    raw: list[Any] = []
    for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise _bad(f"{p}:{n}", f"not valid JSON ({exc.msg})") from None
        if isinstance(raw[-1], dict):
            raw[-1].setdefault("id", f"line-{n}")
    es = eval_set_from_cases(name or p.stem, raw)
    return EvalSet(es.name, es.cases, str(p))


__all__ = ["EvalCase", "EvalSet", "eval_set_from_cases", "load_eval_set", "parse_case"]
