"""Pipeline messages say each thing once: a typo'd key gets a did-you-mean at every level
whose keys are known, a location is named once, a cached step says where it came from."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from loopline.pipelines import PipelineSpecError, load_pipeline, run_pipeline
from tests.pipelines.cli import invoke
from tests.pipelines.conftest import Toy

CHURN = Path(__file__).resolve().parents[2] / "examples" / "churn"


def churn_copy(tmp_path: Path, old: str, new: str) -> Path:
    """examples/churn with one edit in its loopline.yaml."""
    folder = tmp_path / "churn"
    shutil.copytree(CHURN, folder)
    spec = folder / "loopline.yaml"
    text = spec.read_text()
    assert old in text, old
    spec.write_text(text.replace(old, new, 1))
    return folder


def error(folder: Path) -> str:
    with pytest.raises(PipelineSpecError) as exc:
        load_pipeline(folder)
    return exc.value.one_line()


def test_a_misspelt_required_key_is_an_unknown_key_with_did_you_mean(tmp_path: Path) -> None:
    msg = error(churn_copy(tmp_path, "\nsteps:\n", "\nstpes:\n"))
    assert "unknown key 'stpes' (did you mean 'steps'?)" in msg, msg
    assert "missing" not in msg, msg
    assert msg.startswith(f"{tmp_path / 'churn' / 'loopline.yaml'}:18: "), msg


@pytest.mark.parametrize(
    ("old", "new", "line", "expected"),
    [
        (
            "    retryable: true",
            "    retryabel: true",
            35,
            "'retryabel' in steps.train (did you mean 'retryable'?)",
        ),
        (
            "  staging:\n    policy:",
            "  staging:\n    polcy:",
            60,
            "'polcy' in environments.staging (did you mean 'policy'?)",
        ),
        (
            "      require_validation: true",
            "      require_validatoin: true",
            70,
            "'require_validatoin' in environments.production.policy"
            " (did you mean 'require_validation'?)",
        ),
        ("  pr_params:", "  pr_parms:", 79, "'pr_parms' in ci (did you mean 'pr_params'?)"),
    ],
)
def test_every_level_with_known_keys_suggests_the_right_one(
    tmp_path: Path, old: str, new: str, line: int, expected: str
) -> None:
    msg = error(churn_copy(tmp_path, old, new))
    assert msg.startswith(
        f"{tmp_path / 'churn' / 'loopline.yaml'}:{line}: unknown key {expected}"
    ), msg


def test_a_policy_approvals_typo_is_named_with_its_line(tmp_path: Path) -> None:
    folder = churn_copy(
        tmp_path, "      require_validation: true", "      approvals: {count: 1, rol: approver}"
    )
    msg = error(folder)
    assert "unknown key 'rol' in environments.production.policy.approvals" in msg, msg
    assert "did you mean 'role'?" in msg, msg


def test_a_bad_gate_rule_names_the_file_once_and_the_rule_line(tmp_path: Path) -> None:
    folder = churn_copy(tmp_path, "auc >= 0.80", "auc >== 0.80")
    msg = error(folder)
    source = str(folder / "loopline.yaml")
    assert msg.count(source) == 1 and msg.count("loopline.yaml") == 1, msg
    assert msg.startswith(f"{source}:67: environments.production.policy.rules.[0]: "), msg
    assert "'auc >== 0.80'" in msg, msg


def test_a_cached_step_says_where_it_came_from_once(toy: Toy) -> None:
    spec = toy.write()
    first = run_pipeline(spec)
    again = run_pipeline(spec)
    step = again.step("make")
    assert step.status == "cached" and step.note == f"from run {first.run_id[:8]}", step.note
    out = invoke("pipelines", "run", str(toy.folder)).output
    assert "cached — cached" not in out and "make cached" in out, out
