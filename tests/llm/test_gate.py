"""Acceptance: a prompt change that breaks the output format is refused by the gate on the
eval set, production keeps the previous version, and the report says which cases failed."""

from __future__ import annotations

from pathlib import Path

import pytest

import loopline as ll
from loopline.errors import ConflictError
from loopline.gates import GatePolicy
from loopline.llm import (
    OpenAICompatibleProvider,
    evaluate_prompt,
    load_prompt,
    promote_prompt,
    register_prompt,
)
from loopline.ops.audit import verify_audit
from loopline.store import open_metadata_store
from tests.llm.conftest import JSON_PROMPT, PROSE_PROMPT, LlmServer, support_cases, write_jsonl

POLICY = GatePolicy(name="prompts", rules=("pass_rate >= champion.pass_rate", "pass_rate >= 0.75"))


@pytest.fixture
def evals(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "support.jsonl", support_cases())


def test_format_breaking_prompt_is_refused_and_production_stays(
    llm_server: LlmServer, evals: Path
) -> None:
    provider = OpenAICompatibleProvider(llm_server.url)
    v1 = register_prompt("support-reply", JSON_PROMPT)
    first = promote_prompt(
        "support-reply", v1.version, policy=POLICY, eval_set=evals, provider=provider
    )
    assert first.promoted and first.candidate is not None
    assert first.candidate.metrics["pass_rate"] == 1.0

    v2 = register_prompt("support-reply", PROSE_PROMPT)  # "reply in JSON" dropped
    out = promote_prompt(
        "support-reply", v2.version, policy=POLICY, eval_set=evals, provider=provider
    )

    assert not out.promoted
    assert load_prompt("prompts:/support-reply@production").version == v1.version
    assert out.candidate is not None and out.candidate.metrics["pass_rate"] == 0.0
    assert [c.case_id for c in out.candidate.failures] == ["c1", "c2", "c3", "c4"]
    assert all("not valid JSON" in c.why for c in out.candidate.failures)
    failed = {r.rule for r in out.result.decision.failures}
    assert failed == {"pass_rate >= champion.pass_rate", "pass_rate >= 0.75"}
    # the champion was judged on the same cases: its stored evaluation was reused
    assert out.champion is None
    store = open_metadata_store()
    decision = store.list_gate_decisions("support-reply", v2.version)[-1]
    assert not decision.passed
    evaluation = store.list_evaluations("support-reply", v2.version)[-1]
    assert evaluation.task == "llm" and evaluation.metrics["pass_rate.json_schema"] == 0.0
    assert evaluation.slices["tag"]["billing"]["cases"] == 2
    assert verify_audit(store).ok
    actions = [e.action for e in store.list_audit_events()]
    assert "gate.decision" in " ".join(actions) or len(actions) >= 4


def test_eval_run_is_tracked_with_dataset_and_report(llm_server: LlmServer, evals: Path) -> None:
    v = register_prompt("support-reply", JSON_PROMPT)
    report = evaluate_prompt(f"prompts:/support-reply/{v.version}", evals,
                             OpenAICompatibleProvider(llm_server.url))  # fmt: skip
    store = open_metadata_store()
    run = store.get_run(str(report.run_id))
    assert run.status == "finished" and run.params["prompt"] == "prompts:/support-reply/1"
    assert run.metrics["pass_rate"] == 1.0
    (use,) = store.run_datasets(run.id)
    assert use.role == "evaluation" and use.dataset.n_rows == 4
    assert use.dataset.fingerprint == report.fingerprint
    assert {a.path for a in store.list_artifacts(run.id)} >= {"eval_report.json"}
    assert report.metrics["tokens_in"] > 0 and report.metrics["latency_p95_ms"] > 0


def test_better_prompt_promotes_and_rollback_restores(llm_server: LlmServer, evals: Path) -> None:
    provider = OpenAICompatibleProvider(llm_server.url)
    prose = register_prompt("support-reply", PROSE_PROMPT)
    assert promote_prompt("support-reply", prose.version).promoted  # no policy: first holder
    fixed = register_prompt("support-reply", JSON_PROMPT)
    out = promote_prompt(
        "support-reply", fixed.version, policy=POLICY, eval_set=evals, provider=provider
    )
    # no stored evaluation of the champion on this set: it was evaluated too
    assert out.champion is not None and out.champion.metrics["pass_rate"] == 0.0
    assert out.promoted
    assert load_prompt("prompts:/support-reply@production").version == fixed.version
    ll.rollback("support-reply", "production")
    assert load_prompt("prompts:/support-reply@production").version == prose.version


def test_prompt_and_model_names_do_not_mix(train_version: object) -> None:
    train_version()  # type: ignore[operator]  # registers model 'churn'
    with pytest.raises(ConflictError, match="already holds sklearn versions"):
        register_prompt("churn", JSON_PROMPT)
