from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loopline.errors import InvalidInputError
from loopline.gates import parse_rule
from loopline.policy import UnknownMetricError

NAMES = ["auc", "f1", "latency_p95_ms", "slice_gap.auc"]
CANDIDATE = {"auc": 0.81, "f1": 0.5, "latency_p95_ms": 12.0, "slice_gap.auc": 0.04}
CHAMPION = {"auc": 0.8, "f1": 0.55, "latency_p95_ms": 9.0, "slice_gap.auc": 0.02}


@st.composite
def expressions(draw: st.DrawFn, depth: int = 0) -> tuple[str, float]:
    """(source text, value) pairs built by the grammar, with the value computed directly."""
    kind = draw(st.sampled_from(["num", "cand", "champ"] + (["bin", "neg"] if depth < 3 else [])))
    if kind == "num":
        v = draw(st.floats(-1e3, 1e3, allow_nan=False).map(lambda x: round(x, 3)))
        return (repr(v), v)
    if kind == "cand":
        n = draw(st.sampled_from(NAMES))
        return (n, CANDIDATE[n])
    if kind == "champ":
        n = draw(st.sampled_from(NAMES))
        return (f"champion.{n}", CHAMPION[n])
    if kind == "neg":
        text, v = draw(expressions(depth + 1))
        return (f"-({text})", -v)
    (lt, lv), (rt, rv) = draw(expressions(depth + 1)), draw(expressions(depth + 1))
    op = draw(st.sampled_from("+-*/"))
    if op == "/" and rv == 0:
        op = "+"
    value = {"+": lv + rv, "-": lv - rv, "*": lv * rv, "/": lv / rv if rv else 0.0}[op]
    return (f"({lt} {op} {rt})", value)


OPS = {
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(NAMES), st.sampled_from(list(OPS)), expressions())
def test_rules_evaluate_like_the_arithmetic_they_spell(
    name: str, op: str, rhs: tuple[str, float]
) -> None:
    text, expected = rhs
    rule = parse_rule(f"{name} {op} {text}")
    left, right, holds = rule.evaluate(CANDIDATE, CHAMPION)
    assert left == CANDIDATE[name]
    assert right == pytest.approx(expected, rel=1e-9, abs=1e-9) or (
        math.isinf(right) and math.isinf(expected)
    )
    if abs(right - CANDIDATE[name]) > 1e-9:  # away from the boundary, the verdict is exact
        assert holds == OPS[op](left, right)
    assert rule.uses_champion == ("champion." in text)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("auc", "exactly one comparison"),
        ("0.1 < auc < 0.9", "exactly one comparison"),
        ("auc >= __import__('os').system('x')", "not allowed"),
        ("auc >= 'high'", "not a number"),
        ("auc >= True", "not a number"),
        ("auc >= max(f1, 1)", "not allowed"),
        ("auc in [1, 2]", "not supported"),
        ("auc >= 0.8 and f1 > 0", "exactly one comparison"),
        ("1 >= 0", "name at least one metric"),
        ("auc >=", "not a valid expression"),
        ("", "non-empty"),
        ("auc ** 2 >= 1", "not allowed"),
    ],
)
def test_refused_rules_say_why(rule: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_rule(rule)


def test_unknown_metric_is_named_with_the_known_ones() -> None:
    rule = parse_rule("aucc >= 0.8")
    with pytest.raises(InvalidInputError, match=r"metric 'aucc' is unknown; known: auc, f1"):
        rule.evaluate(CANDIDATE, None)
    with pytest.raises(InvalidInputError, match="there is none"):
        parse_rule("auc >= champion.auc").evaluate(CANDIDATE, None)


def test_unknown_metric_says_whose_evidence_and_suggests_a_close_spelling() -> None:
    with pytest.raises(UnknownMetricError) as typo:
        parse_rule("aucc >= 0.8").evaluate(CANDIDATE, None)
    assert (typo.value.metric, typo.value.champion, typo.value.spelling) == ("aucc", False, "auc")
    assert typo.value.hint == "did you mean 'auc'? fix the rule"
    with pytest.raises(UnknownMetricError) as missing:
        parse_rule("auc >= champion.latency_p95_ms").evaluate(CANDIDATE, {"auc": 0.8})
    assert (missing.value.champion, missing.value.spelling) == (True, None)
    assert missing.value.details == {"metric": "latency_p95_ms", "of": "champion"}


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_arbitrary_text_parses_or_fails_cleanly(text: str) -> None:
    try:
        rule = parse_rule(text)
    except InvalidInputError as exc:
        assert str(exc).startswith("gate rule")
    else:
        assert rule.names
