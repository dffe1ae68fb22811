"""The gate rule language: one comparison per rule, e.g.

    auc >= 0.80
    auc >= champion.auc - 0.01
    mae <= champion.mae * 1.02
    latency_p95_ms <= 20
    slice_gap.auc <= 0.05

Rules are parsed with Python's own `ast` and then whitelisted node by node: numbers,
(dotted) metric names, + - * /, unary minus and parentheses on either side of exactly one
comparison. Anything else is refused at parse time, so a policy file can never run code.
Names starting with `champion.` read the current alias holder's metrics; every other name
reads the candidate's.
"""

from __future__ import annotations

import ast
import difflib
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from loopline.errors import InvalidInputError

_COMPARE: dict[type[ast.cmpop], tuple[str, Callable[[float, float], bool]]] = {
    ast.GtE: (">=", operator.ge),
    ast.LtE: ("<=", operator.le),
    ast.Gt: (">", operator.gt),
    ast.Lt: ("<", operator.lt),
    ast.Eq: ("==", operator.eq),
    ast.NotEq: ("!=", operator.ne),
}
_ARITH: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
CHAMPION = "champion."


def _bad(rule: str, why: str) -> InvalidInputError:
    return InvalidInputError(
        f"gate rule {rule!r}: {why}",
        hint="write one comparison of metrics and numbers, e.g. 'auc >= champion.auc - 0.01'",
    )


class UnknownMetricError(InvalidInputError):
    """A rule names a metric the evidence lacks. `champion` says whose evidence; `spelling`
    is a close known name when the rule is likely misspelled (else None: the evidence is
    likely missing, and the caller knows which evaluation would record it)."""

    def __init__(self, rule: str, metric: str, known: list[str], *, champion: bool) -> None:
        close = difflib.get_close_matches(metric, known, n=1)
        self.metric, self.champion = metric, champion
        self.spelling = close[0] if close else None
        super().__init__(
            f"gate rule {rule!r}: metric {metric!r} is unknown; known: "
            + (", ".join(known) or "none"),
            hint=_unknown_metric_hint(metric, known, self.spelling),
            details={"metric": metric, "of": "champion" if champion else "candidate"},
        )


def _unknown_metric_hint(metric: str, known: list[str], spelling: str | None) -> str:
    # slice_gap.* exists only when the evaluation was given slice columns.
    if metric.startswith("slice_gap.") and not any(k.startswith("slice_gap.") for k in known):
        return (
            "slice_gap.* needs slice columns: evaluate with --data and --slice COLUMN "
            "(slices=[...] in Python)"
        )
    if spelling:
        return f"did you mean {spelling!r}? fix the rule"
    return "write one comparison of metrics and numbers, e.g. 'auc >= champion.auc - 0.01'"


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _check(node: ast.expr, rule: str, names: set[str]) -> None:
    name = _dotted(node)
    if name is not None:
        names.add(name)
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise _bad(rule, f"{node.value!r} is not a number")
    elif isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
        _check(node.left, rule, names)
        _check(node.right, rule, names)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        _check(node.operand, rule, names)
    else:
        raise _bad(rule, f"'{ast.unparse(node)}' is not allowed (numbers, metric names, + - * /)")


@dataclass(frozen=True)
class Rule:
    """A parsed rule: `left op right`, and the metric names each side reads."""

    text: str
    left: ast.expr
    op: str
    right: ast.expr
    names: frozenset[str]

    @property
    def uses_champion(self) -> bool:
        return any(n.startswith(CHAMPION) for n in self.names)

    def evaluate(
        self, candidate: Mapping[str, float], champion: Mapping[str, float] | None
    ) -> tuple[float, float, bool]:
        """(left value, right value, holds?). Unknown names raise UnknownMetricError."""

        def value(node: ast.expr) -> float:
            name = _dotted(node)
            if name is not None:
                source, key = (
                    (champion, name[len(CHAMPION) :])
                    if name.startswith(CHAMPION)
                    else (candidate, name)
                )
                if source is None:
                    raise _bad(self.text, "refers to the champion, but there is none")
                if key not in source:
                    raise UnknownMetricError(
                        self.text, key, sorted(source), champion=source is champion
                    )
                return float(source[key])
            if isinstance(node, ast.Constant):
                assert isinstance(node.value, int | float)  # guaranteed by parse_rule
                return float(node.value)
            if isinstance(node, ast.UnaryOp):
                v = value(node.operand)
                return -v if isinstance(node.op, ast.USub) else v
            assert isinstance(node, ast.BinOp)
            a, b = value(node.left), value(node.right)
            if isinstance(node.op, ast.Div) and b == 0:
                return math.inf if a > 0 else -math.inf if a < 0 else math.nan
            return _ARITH[type(node.op)](a, b)

        left, right = value(self.left), value(self.right)
        compare = next(fn for sym, fn in _COMPARE.values() if sym == self.op)
        holds = not (math.isnan(left) or math.isnan(right)) and compare(left, right)
        return left, right, holds


def parse_rule(text: str) -> Rule:
    """Parse one rule; a clear InvalidInputError says what is wrong with it."""
    if not isinstance(text, str) or not text.strip():
        raise _bad(str(text), "a rule must be a non-empty string")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise _bad(text, f"not a valid expression ({exc.msg})") from None
    body = tree.body
    if not isinstance(body, ast.Compare) or len(body.ops) != 1:
        raise _bad(text, "must be exactly one comparison (>=, <=, >, <, ==, !=)")
    op = type(body.ops[0])
    if op not in _COMPARE:
        raise _bad(text, f"comparison '{ast.unparse(body)}' is not supported")
    names: set[str] = set()
    _check(body.left, text, names)
    _check(body.comparators[0], text, names)
    if not names:
        raise _bad(text, "compares only numbers; name at least one metric")
    return Rule(text.strip(), body.left, _COMPARE[op][0], body.comparators[0], frozenset(names))


__all__ = ["CHAMPION", "Rule", "parse_rule"]
