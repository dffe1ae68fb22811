from __future__ import annotations

import pytest

import loopline as ll
from loopline.errors import ArtifactCorruptedError, InvalidInputError
from loopline.llm import PromptTemplate, diff_prompts, load_prompt, register_prompt
from loopline.store import open_metadata_store
from tests.llm.conftest import JSON_PROMPT, PROSE_PROMPT


def test_register_load_format_by_alias_and_number() -> None:
    v = register_prompt("support-reply", JSON_PROMPT)
    assert v.flavor == "prompt" and v.version == 1
    ll.promote("support-reply", 1, alias="production")
    for uri in ("prompts:/support-reply@production", "prompts:/support-reply/1",
                "prompts:/support-reply/latest"):  # fmt: skip
        p = load_prompt(uri)
        assert p.version == 1 and p.model == "toy-1" and p.params == {"temperature": 0}
    messages = load_prompt("prompts:/support-reply@production").format(
        customer="Ada", question="Hi?"
    )
    assert messages[1] == {"role": "user", "content": "Customer Ada. Question: Hi?"}
    assert load_prompt("prompts:/support-reply/1").variables == ("customer", "question")


def test_format_refuses_missing_and_unknown_variables() -> None:
    t = PromptTemplate.from_dict(JSON_PROMPT)
    with pytest.raises(InvalidInputError, match="missing customer, question; unknown custmer"):
        t.format(custmer="x")


def test_template_validation_names_the_problem() -> None:
    with pytest.raises(InvalidInputError, match="message 1: role must be one of"):
        PromptTemplate.from_dict({"messages": [{"role": "robot", "content": "x"}]})
    with pytest.raises(InvalidInputError, match="unknown key"):
        PromptTemplate.from_dict({"messages": [{"role": "user", "content": "x"}], "temp": 1})


def test_registration_is_a_tracked_run_with_audit_and_lineage() -> None:
    v = register_prompt("support-reply", JSON_PROMPT)
    store = open_metadata_store()
    run = store.get_run(v.run_id)
    assert run.status == "finished" and run.params["variables"] == "customer,question"
    assert any(e.action.startswith("model.register") or "register" in e.action
               for e in store.list_audit_events())  # fmt: skip
    assert ll.lineage("models:/support-reply/1")["run"]["id"] == run.id


def test_diff_between_versions() -> None:
    register_prompt("support-reply", JSON_PROMPT)
    register_prompt("support-reply", PROSE_PROMPT)
    text = diff_prompts("prompts:/support-reply/1", "prompts:/support-reply/2")
    assert "-You are a support agent. Reply in JSON with answer and category." in text
    assert "+You are a friendly support agent." in text
    assert diff_prompts("prompts:/support-reply/1", "prompts:/support-reply/1") == ""


def test_tampered_prompt_is_refused_on_load(home: object) -> None:
    v = register_prompt("support-reply", JSON_PROMPT)
    import json
    from pathlib import Path

    from loopline.config import load_settings

    root = Path(load_settings().artifacts_uri)
    manifest = json.loads((root / "sha256" / v.sha256[:2] / v.sha256).read_text())
    file_sha = manifest["files"]["prompt.json"]["sha256"]
    blob = root / "sha256" / file_sha[:2] / file_sha
    blob.chmod(0o644)
    blob.write_text(blob.read_text().replace("JSON", "prose"))
    with pytest.raises(ArtifactCorruptedError):
        load_prompt("prompts:/support-reply/1")


def test_bad_uris_say_how_to_fix() -> None:
    with pytest.raises(InvalidInputError, match="prompts:/<name>@<alias>"):
        load_prompt("support-reply")
    with pytest.raises(InvalidInputError, match="positive whole number"):
        load_prompt("prompts:/support-reply/0")
