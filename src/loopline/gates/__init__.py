"""Gates: written promotion policies turned into decisions with reasons."""

from loopline.gates._policy import GateDecision, GatePolicy, PromotionGate, RuleResult
from loopline.gates._promote import PromotionResult, promote
from loopline.gates._rules import Rule, parse_rule

__all__ = [
    "GateDecision",
    "GatePolicy",
    "PromotionGate",
    "PromotionResult",
    "Rule",
    "RuleResult",
    "parse_rule",
    "promote",
]
