"""Gates: written promotion policies turned into decisions with reasons."""

from loopline.gates._promote import PromotionResult, as_decision, gate, promote, run_gate
from loopline.policy import GateDecision, GatePolicy, PromotionGate, Rule, RuleResult, parse_rule

__all__ = [
    "GateDecision",
    "GatePolicy",
    "PromotionGate",
    "PromotionResult",
    "Rule",
    "RuleResult",
    "as_decision",
    "gate",
    "parse_rule",
    "promote",
    "run_gate",
]
