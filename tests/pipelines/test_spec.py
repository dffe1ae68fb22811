"""loopline.yaml: every mistake is refused with the file, the line and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from loopline.pipelines import PipelineSpecError, load_pipeline, parse_pipeline

BASE = """name: p
model: m
params: {x: 1}
steps:
  a: {run: steps:a, params: [x], outputs: [out]}
  b: {run: steps:b, inputs: {v: a.out}, outputs: [out]}
"""


def error(text: str) -> str:
    with pytest.raises(PipelineSpecError) as exc:
        parse_pipeline(text, "loopline.yaml")
    return exc.value.one_line()


def test_a_valid_spec_parses_with_step_names_and_defaults() -> None:
    spec = parse_pipeline(BASE, "loopline.yaml")
    assert list(spec.steps) == ["a", "b"]
    assert spec.steps["b"].name == "b" and spec.steps["b"].upstream == ["a"]
    assert spec.steps["a"].retries == 2 and not spec.steps["a"].retryable


def test_unknown_keys_name_the_line_and_suggest_the_right_one() -> None:
    msg = error(BASE.replace("  b: {run: steps:b,", "  b: {runn: steps:b,"))
    assert msg.startswith("loopline.yaml:6: unknown key 'runn' in steps.b (did you mean 'run'?)")
    assert "allowed keys there:" in msg and "retryable" in msg
    top = error(BASE + "shedule: '0 3 * * *'\n")
    assert top.startswith("loopline.yaml:7: unknown key 'shedule'") and "'schedule'" in top


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("v: a.out", "v: c.out"), "loopline.yaml:6: step 'b' input 'v' names unknown step 'c'"),
        (("v: a.out", "v: a.nope"), "loopline.yaml:6: step 'b' input 'v': step 'a' has no output"),
        (("params: [x]", "params: [y]"), "loopline.yaml:5: step 'a' uses param 'y'"),
        (("run: steps:a", "run: steps.a"), "loopline.yaml:5: steps.a.run: must be 'module:func"),
        (("v: a.out", "v: aout"), "must be 'step.output'"),
    ],
)
def test_broken_references(change: tuple[str, str], expected: str) -> None:
    assert expected in error(BASE.replace(*change))


def test_a_cycle_is_refused_naming_its_steps() -> None:
    text = BASE.replace("a: {run: steps:a,", "a: {run: steps:a, inputs: {w: b.out},")
    assert error(text).startswith("loopline.yaml:4: steps a → b → a form a cycle")


def test_schedules_triggers_and_environments_are_checked() -> None:
    assert error(BASE + "schedule: '0 25 * * *'\n").startswith(
        "loopline.yaml:7: schedule: cron '0 25 * * *': hour 25 is outside 0-23"
    )
    assert "unknown time zone" in error(BASE + "schedule: {cron: '@daily', timezone: Mars/Base}\n")
    assert "'on: new-data' needs 'dataset: <name>'" in error(BASE + "triggers: [new-data]\n")
    promote = BASE + "  c: {uses: promote, to: staging}\n"
    assert "names unknown environment 'staging'" in error(promote)
    no_model = promote.replace("model: m\n", "") + "environments: {staging: {}}\n"
    assert "'uses: promote' needs the pipeline's 'model:'" in error(no_model)
    assert "needs exactly one of" in error(BASE + "  c: {outputs: [z]}\n")
    assert "'uses: validate' needs the pipeline's 'contract:'" in error(
        BASE + "  c: {uses: validate, inputs: {data: a.out}}\n"
    )


def test_yaml_12_booleans_keep_on_a_string_and_duplicates_are_refused() -> None:
    spec = parse_pipeline(BASE + "triggers:\n  - on: drift\n", "loopline.yaml")
    assert spec.triggers[0].on == "drift"  # YAML 1.1 would have made the key True
    assert "key 'steps.a' appears twice" in error(BASE + "  a: {run: steps:a}\n")
    assert error("name: [unclosed\n").startswith("loopline.yaml:2: not valid YAML")
    assert "a pipeline is a mapping" in error("- just a list\n")


def test_gate_policies_are_read_when_the_spec_is(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    spec = BASE + "environments:\n  prod: {policy: gate.yaml, approval: true}\n"
    (folder / "loopline.yaml").write_text(spec)
    with pytest.raises(PipelineSpecError, match=r"gate policy .*gate\.yaml does not exist"):
        load_pipeline(folder)
    (folder / "gate.yaml").write_text("rules: ['auc >= 0.8']\n")
    loaded = load_pipeline(folder)
    policy = loaded.gate_policy("prod")
    assert policy.rules == ("auc >= 0.8",) and policy.approvals_count == 1  # approval: true
    inline = BASE + "environments:\n  prod:\n    policy: {rules: ['auc >= bogus(']}\n"
    assert error(inline).startswith("loopline.yaml:9: environments.prod.policy.rules.[0]: ")
    with pytest.raises(PipelineSpecError, match="does not exist"):
        load_pipeline(tmp_path / "nowhere")
