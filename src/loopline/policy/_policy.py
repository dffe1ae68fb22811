"""Gate policies (YAML) and the `PromotionGate` that turns evidence into a decision.

    # gate.yaml
    name: production
    rules:
      - auc >= 0.80
      - auc >= champion.auc - 0.01
      - latency_p95_ms <= 20
    require_validation: true        # every validated dataset of the run must have passed
    approvals: {count: 1, role: approver}
    allow_unsafe_pickle: false      # a pickled model (opted in at log time) is refused

`PromotionGate.decide` is pure: metrics, validation tags and approvals in, a decision with
every rule's value, threshold and verdict out. The caller records it and moves the alias.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from loopline.errors import InvalidInputError
from loopline.policy._rules import parse_rule

_KEYS = ("name", "rules", "require_validation", "approvals", "allow_unsafe_pickle")
_APPROVAL_KEYS = ("count", "role")
_HINT = "see README, 'Gate policies', for the format"


def _check_keys(data: dict[Any, Any], source: str, marks: Mapping[Any, int] | None) -> None:
    """The first unknown key (in file order) as `file:line: unknown key 'requre_validation'
    (did you mean 'require_validation'?)`; the line only when the policy came from a file."""
    approvals = data.get("approvals")
    levels: list[tuple[tuple[str, ...], Any, tuple[str, ...]]] = [
        ((), data, _KEYS),
        (("approvals",), approvals if isinstance(approvals, dict) else {}, _APPROVAL_KEYS),
    ]
    found = [
        (marks.get((*parent, key), 0) if marks else 0, str(key), parent, known)
        for parent, mapping, known in levels
        for key in mapping
        if key not in known
    ]
    if not found:
        return
    # The YAML reader (PyYAML) only on this error path: see from_yaml.
    from loopline._yaml import line_of, unknown_key

    _, key, parent, known = min(found, key=lambda f: f[0])
    where = f"{source}:{line_of(dict(marks), (*parent, key))}" if marks else source
    raise unknown_key(InvalidInputError, where, key, parent, known, _HINT)


@dataclass(frozen=True)
class GatePolicy:
    name: str = "default"
    rules: tuple[str, ...] = ()
    require_validation: bool = False
    approvals_count: int = 0
    approvals_role: str | None = None
    allow_unsafe_pickle: bool = False

    def get_params(self) -> dict[str, Any]:
        """The policy as plain data: printed, diffed and stored with every decision."""
        return {**asdict(self), "rules": list(self.rules)}

    def to_dict(self) -> dict[str, Any]:
        """The policy in its YAML form: `from_dict(p.to_dict()) == p`."""
        approvals: dict[str, Any] = {"count": self.approvals_count}
        if self.approvals_role is not None:
            approvals["role"] = self.approvals_role
        return {
            "name": self.name,
            "rules": list(self.rules),
            "require_validation": self.require_validation,
            "approvals": approvals,
            "allow_unsafe_pickle": self.allow_unsafe_pickle,
        }

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> GatePolicy:
        """The policy `get_params` described (as stored with a decision or registration)."""
        known = {k: params[k] for k in cls.__dataclass_fields__ if k in params}
        return cls(**{**known, "rules": tuple(known.get("rules", ()))})

    @classmethod
    def from_dict(
        cls, data: Any, source: str = "policy", marks: Mapping[Any, int] | None = None
    ) -> GatePolicy:
        """The policy in `data`; a mistake names `source` (and, given the `marks` of the
        file it was read from, the line of an unknown key)."""

        def bad(why: str) -> InvalidInputError:
            return InvalidInputError(f"{source}: {why}", hint=_HINT)

        if not isinstance(data, dict):
            raise bad("must be a mapping with a 'rules' list")
        _check_keys(data, source, marks)
        rules = data.get("rules", [])
        if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
            raise bad("'rules' must be a list of strings like 'auc >= 0.8'")
        for i, rule in enumerate(rules, 1):
            try:
                parse_rule(rule)  # refuse a bad rule when the policy is read, not at decision time
            except InvalidInputError as exc:
                raise InvalidInputError(
                    f"{source}: rule {i}: {exc.message}", hint=exc.hint
                ) from None
        approvals = data.get("approvals") or {}
        if not isinstance(approvals, dict):
            raise bad("'approvals' must be a mapping with 'count' and optional 'role'")
        count = approvals.get("count", 0)
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise bad("'approvals.count' must be a whole number >= 0")
        require = data.get("require_validation", False)
        if not isinstance(require, bool):
            raise bad("'require_validation' must be true or false")
        unsafe = data.get("allow_unsafe_pickle", False)
        if not isinstance(unsafe, bool):
            raise bad("'allow_unsafe_pickle' must be true or false")
        role = approvals.get("role")
        if role is not None and not isinstance(role, str):
            raise bad("'approvals.role' must be a role name")
        return cls(
            name=str(data.get("name", Path(source).stem if source != "policy" else "default")),
            rules=tuple(rules),
            require_validation=require,
            approvals_count=count,
            approvals_role=role,
            allow_unsafe_pickle=unsafe,
        )

    @classmethod
    def from_yaml(cls, path: str | Path) -> GatePolicy:
        # PyYAML only when a policy file is read: the store imports this module for every
        # command, and most of them never read a policy file.
        import yaml

        from loopline._yaml import load_marked

        p = Path(path)
        try:
            data, marks = load_marked(
                p.read_text(), f"gate policy {p}", InvalidInputError, "fix the syntax"
            )
        except FileNotFoundError:
            raise InvalidInputError(
                f"gate policy {p} does not exist", hint="check the --policy path"
            ) from None
        except yaml.YAMLError as exc:
            raise InvalidInputError(
                f"gate policy {p} is not valid YAML: {exc}", hint="fix the syntax"
            ) from None
        return cls.from_dict(data, str(p), marks)


@dataclass(frozen=True)
class RuleResult:
    rule: str
    value: float | None
    threshold: float | None
    verdict: str  # pass | fail | skip
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GateDecision:
    passed: bool
    results: tuple[RuleResult, ...]
    policy: dict[str, Any]

    @property
    def failures(self) -> list[RuleResult]:
        return [r for r in self.results if r.verdict == "fail"]

    def summary(self) -> str:
        if self.passed:
            return "gate passed"
        return "gate failed: " + "; ".join(f"{r.rule} ({r.reason})" for r in self.failures)


class PromotionGate:
    """Decides whether a candidate may take an alias, under a `GatePolicy`."""

    def __init__(self, policy: GatePolicy) -> None:
        self.policy = policy
        self._rules = [parse_rule(r) for r in policy.rules]

    def get_params(self) -> dict[str, Any]:
        return self.policy.get_params()

    def decide(
        self,
        candidate: Mapping[str, float],
        champion: Mapping[str, float] | None,
        *,
        validation: Mapping[str, str] | None = None,
        approvals: Sequence[tuple[str, str]] = (),
        unsafe_pickle: bool | None = None,
    ) -> GateDecision:
        """Evaluate every rule. A rule naming an unknown metric raises before any decision.

        `unsafe_pickle` (given for protected aliases) adds the rule that a pickled model is
        refused unless the policy allows it."""
        results: list[RuleResult] = []
        if unsafe_pickle is not None:
            refused = unsafe_pickle and not self.policy.allow_unsafe_pickle
            results.append(
                RuleResult(
                    "no unsafe pickle",
                    None,
                    None,
                    "fail" if refused else "pass",
                    "the model is a pickle (unsafe_pickle=True) and the policy does not set "
                    "allow_unsafe_pickle"
                    if refused
                    else ("pickle allowed by the policy" if unsafe_pickle else "safe format"),
                )
            )
        for rule in self._rules:
            if rule.uses_champion and champion is None:
                results.append(
                    RuleResult(rule.text, None, None, "skip", "no champion yet to compare with")
                )
                continue
            left, right, holds = rule.evaluate(candidate, champion)
            reason = f"{left:.6g} {rule.op} {right:.6g}" + ("" if holds else " is false")
            results.append(RuleResult(rule.text, left, right, "pass" if holds else "fail", reason))
        if self.policy.require_validation:
            checks = dict(validation or {})
            bad = sorted(k for k, v in checks.items() if v == "failed")
            if not checks:
                results.append(
                    RuleResult(
                        "validation passed",
                        None,
                        None,
                        "fail",
                        "no data validation recorded for the run",
                    )
                )
            else:
                results.append(
                    RuleResult(
                        "validation passed",
                        None,
                        None,
                        "fail" if bad else "pass",
                        f"failed: {', '.join(bad)}" if bad else f"{len(checks)} passed",
                    )
                )
        if self.policy.approvals_count:
            role = self.policy.approvals_role
            ok = [a for a, r in approvals if role is None or r == role]
            need = self.policy.approvals_count
            results.append(
                RuleResult(
                    f"approvals >= {need}" + (f" ({role})" if role else ""),
                    float(len(ok)),
                    float(need),
                    "pass" if len(ok) >= need else "fail",
                    f"approved by {', '.join(ok)}" if ok else "no approvals yet",
                )
            )
        passed = all(r.verdict != "fail" for r in results)
        return GateDecision(passed, tuple(results), self.get_params())


__all__ = ["GateDecision", "GatePolicy", "PromotionGate", "RuleResult"]
