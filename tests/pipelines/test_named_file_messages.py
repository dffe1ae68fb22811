"""A mistake in a file loopline.yaml names (its contract, a gate policy file) is located once
per file: the named file's own `file:line` first — that is where to fix it — then where
loopline.yaml names it. Never `loopline.yaml:9: contract.yaml:14: ...`, two locations
glued together like the old `loopline.yaml:64: loopline.yaml:production:`."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tests.pipelines.cli import invoke
from tests.pipelines.test_spec_messages import CHURN, churn_copy, error

STAGING_RULES = """  staging:
    policy:
      rules:
        - auc >= 0.75
        - auc >= champion.auc - 0.02
"""


def contract_typo(tmp_path: Path) -> Path:
    """examples/churn with `nulable:` for `nullable:` on its contract's line 12."""
    folder = tmp_path / "churn"
    shutil.copytree(CHURN, folder)
    contract = folder / "contract.yaml"
    old = "  partner: {dtype: int, nullable:"
    text = contract.read_text()
    assert old in text
    contract.write_text(text.replace(old, old.replace("nullable", "nulable"), 1))
    return folder


def _locations(msg: str) -> list[str]:
    return re.findall(r"[\w./-]+\.yaml:\d+", msg)


def test_a_contract_typo_leads_with_the_contract_line(tmp_path: Path) -> None:
    folder = contract_typo(tmp_path)
    msg = error(folder)
    contract, spec = folder / "contract.yaml", folder / "loopline.yaml"
    assert msg.startswith(f"{contract}:12: unknown key 'nulable' in columns.partner"), msg
    assert "(did you mean 'nullable'?)" in msg, msg
    assert f"(named at {spec}:9: contract)" in msg, msg
    assert _locations(msg) == [f"{contract}:12", f"{spec}:9"], msg


def test_a_policy_file_mistake_leads_with_the_policy_file(tmp_path: Path) -> None:
    folder = churn_copy(tmp_path, STAGING_RULES, "  staging:\n    policy: gate.yaml\n")
    (folder / "gate.yaml").write_text("rules:\n  - auc >= 0.8\nrequire_validation: maybe\n")
    msg = error(folder)
    policy, spec = folder / "gate.yaml", folder / "loopline.yaml"
    assert msg.startswith(f"{policy}: 'require_validation' must be true or false"), msg
    assert f"(named at {spec}:60: environments.staging.policy)" in msg, msg
    assert msg.count(str(spec)) == 1 and msg.count(str(policy)) == 1, msg


def test_a_missing_policy_file_names_the_key_not_a_cli_option(tmp_path: Path) -> None:
    folder = churn_copy(tmp_path, STAGING_RULES, "  staging:\n    policy: gates/staging.yaml\n")
    msg = error(folder)
    spec = folder / "loopline.yaml"
    assert msg.startswith(
        f"{spec}:60: environments.staging.policy: gate policy file "
        f"{folder / 'gates' / 'staging.yaml'} does not exist"
    ), msg
    assert "--policy" not in msg and "relative to the folder of loopline.yaml" in msg, msg


def test_an_inline_policy_value_is_located_at_its_own_key(tmp_path: Path) -> None:
    folder = churn_copy(
        tmp_path, "      require_validation: true", "      require_validation: maybe"
    )
    msg = error(folder)
    spec = folder / "loopline.yaml"
    assert msg.startswith(
        f"{spec}:70: environments.production.policy: 'require_validation' must be true or false"
    ), msg
    assert msg.count("loopline.yaml") == 1, msg


def test_the_cli_prints_the_contract_location_once(tmp_path: Path) -> None:
    folder = contract_typo(tmp_path)
    out = invoke("pipelines", "run", str(folder))
    assert out.exit_code == 2, out.output
    line = out.output.strip().splitlines()[-1]
    assert line.startswith(f"error: {folder / 'contract.yaml'}:12: unknown key 'nulable'"), line
    assert f"(named at {folder / 'loopline.yaml'}:9: contract)" in line, line
