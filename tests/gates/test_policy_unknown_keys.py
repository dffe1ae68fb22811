"""An unknown key in a gate policy file names the file and its line, and suggests the key
meant when one is close (the wording of the pipeline spec's and the contract's typos)."""

from __future__ import annotations

from pathlib import Path

import pytest

from loopline.errors import InvalidInputError
from loopline.gates import GatePolicy
from tests.conftest import run_cli

KNOWN = "allowed keys there: name, rules, require_validation, approvals, allow_unsafe_pickle"


def _refusal(path: Path, text: str) -> InvalidInputError:
    path.write_text(text)
    with pytest.raises(InvalidInputError) as err:
        GatePolicy.from_yaml(path)
    return err.value


def test_a_misspelt_key_names_file_line_and_the_key_meant(tmp_path: Path) -> None:
    p = tmp_path / "gate.yaml"
    err = _refusal(p, "name: prod\nrules:\n  - auc >= 0.8\nrequre_validation: true\n")
    assert err.message == (
        f"{p}:4: unknown key 'requre_validation' (did you mean 'require_validation'?)"
    )
    assert err.hint == KNOWN


def test_an_unknown_key_with_no_close_match_lists_the_allowed_keys(tmp_path: Path) -> None:
    p = tmp_path / "gate.yaml"
    err = _refusal(p, "rules: [auc >= 0.8]\nflavour_of_the_week: espresso\n")
    assert err.message == f"{p}:2: unknown key 'flavour_of_the_week'"
    assert err.hint == KNOWN


def test_a_misspelt_approvals_key_is_named_inside_approvals(tmp_path: Path) -> None:
    p = tmp_path / "gate.yaml"
    err = _refusal(p, "rules: [auc >= 0.8]\napprovals:\n  count: 1\n  rol: approver\n")
    assert err.message == f"{p}:4: unknown key 'rol' in approvals (did you mean 'role'?)"
    assert err.hint == "allowed keys there: count, role"


def test_the_first_unknown_key_in_the_file_is_the_one_named(tmp_path: Path) -> None:
    p = tmp_path / "gate.yaml"
    err = _refusal(p, "zzz: 1\nrules: [auc >= 0.8]\nrulez: []\n")
    assert err.message == f"{p}:1: unknown key 'zzz'"


def test_a_policy_given_as_data_names_its_source_without_a_line() -> None:
    with pytest.raises(InvalidInputError) as err:
        GatePolicy.from_dict({"rules": [], "nmae": "prod"}, "policy for churn@production")
    assert err.value.message == (
        "policy for churn@production: unknown key 'nmae' (did you mean 'name'?)"
    )


def test_the_cli_prints_the_did_you_mean_on_one_line(tmp_path: Path) -> None:
    p = tmp_path / "gate.yaml"
    p.write_text("rules:\n  - auc >= 0.8\nallow_unsafe_pickel: false\n")
    out = run_cli("models", "policy", "set", "churn", "production", str(p))
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert out.stderr.strip() == (
        f"error: {p}:3: unknown key 'allow_unsafe_pickel' (did you mean 'allow_unsafe_pickle'?)"
        f" — {KNOWN}"
    ), out.stderr
