"""Gate policies and their rules: pure decisions, no I/O beyond reading a policy file.

A core-layer package: the store computes the gate decision of a protected alias itself
(in the transaction that records it), so the policy language sits below the store, and
`loopline.gates` (promotion, in loop order above the registry) re-exports it.
"""

from loopline.policy._policy import GateDecision, GatePolicy, PromotionGate, RuleResult
from loopline.policy._rules import CHAMPION, Rule, UnknownMetricError, parse_rule

__all__ = [
    "CHAMPION",
    "GateDecision",
    "GatePolicy",
    "PromotionGate",
    "Rule",
    "RuleResult",
    "UnknownMetricError",
    "parse_rule",
]
