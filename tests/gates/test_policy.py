from __future__ import annotations

from pathlib import Path

import pytest

from loopline.errors import InvalidInputError
from loopline.gates import GatePolicy, PromotionGate


def test_policy_from_yaml_and_params_round_trip(tmp_path: Path) -> None:
    p = tmp_path / "gate.yaml"
    p.write_text(
        "name: prod\nrules:\n  - auc >= 0.8\n  - auc >= champion.auc - 0.01\n"
        "require_validation: true\napprovals: {count: 1, role: approver}\n"
    )
    policy = GatePolicy.from_yaml(p)
    assert policy.get_params() == {
        "name": "prod",
        "rules": ["auc >= 0.8", "auc >= champion.auc - 0.01"],
        "require_validation": True,
        "approvals_count": 1,
        "approvals_role": "approver",
        "allow_unsafe_pickle": False,
    }
    assert GatePolicy.from_dict(policy.to_dict()) == policy
    assert GatePolicy.from_params(policy.get_params()) == policy
    same = {
        "name": "prod",
        "rules": list(policy.rules),
        "require_validation": True,
        "approvals": {"count": 1, "role": "approver"},
    }
    assert GatePolicy.from_dict(same) == policy


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: [auc >= 0.8]\nrequire: x\n", "unknown key"),
        ("rules: auc >= 0.8\n", "list of strings"),
        ("rules: ['auc >= open(1)']\n", "not allowed"),
        ("approvals: {count: -1}\n", "whole number"),
        ("require_validation: maybe\n", "true or false"),
        ("- just a list\n", "mapping"),
        ("rules: [\n", "not valid YAML"),
    ],
)
def test_bad_policies_are_refused_naming_the_file(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "gate.yaml"
    p.write_text(text)
    with pytest.raises(InvalidInputError, match=message) as err:
        GatePolicy.from_yaml(p)
    assert "gate.yaml" in str(err.value)


def test_decision_lists_every_rule_with_value_threshold_and_verdict() -> None:
    gate = PromotionGate(
        GatePolicy(rules=("auc >= 0.8", "auc >= champion.auc - 0.01", "latency_p95_ms <= 20"))
    )
    d = gate.decide({"auc": 0.78, "latency_p95_ms": 5.0}, {"auc": 0.80})
    assert not d.passed
    assert [(r.rule, r.verdict) for r in d.results] == [
        ("auc >= 0.8", "fail"),
        ("auc >= champion.auc - 0.01", "fail"),
        ("latency_p95_ms <= 20", "pass"),
    ]
    assert d.results[1].value == 0.78 and d.results[1].threshold == pytest.approx(0.79)
    assert "auc >= 0.8 (0.78 >= 0.8 is false)" in d.summary()


def test_first_model_skips_champion_rules() -> None:
    d = PromotionGate(GatePolicy(rules=("auc >= champion.auc",))).decide({"auc": 0.7}, None)
    assert d.passed and d.results[0].verdict == "skip"


def test_approvals_and_validation_requirements() -> None:
    gate = PromotionGate(
        GatePolicy(require_validation=True, approvals_count=2, approvals_role="approver")
    )
    d = gate.decide({}, None, validation={}, approvals=[("ann", "approver"), ("bob", "viewer")])
    assert [r.verdict for r in d.results] == ["fail", "fail"]
    assert "no data validation" in d.results[0].reason and d.results[1].value == 1.0
    d = gate.decide(
        {},
        None,
        validation={"validation.train": "passed"},
        approvals=[("ann", "approver"), ("cy", "approver")],
    )
    assert d.passed
    d = gate.decide(
        {},
        None,
        validation={"validation.train": "failed"},
        approvals=[("ann", "approver"), ("cy", "approver")],
    )
    assert not d.passed and "validation.train" in d.results[0].reason


def test_missing_policy_file() -> None:
    with pytest.raises(InvalidInputError, match="does not exist"):
        GatePolicy.from_yaml("nope.yaml")
