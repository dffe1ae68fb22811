from __future__ import annotations

from pathlib import Path

import pytest

from loopline.errors import InvalidInputError
from loopline.llm import (
    Embedder,
    Judges,
    OpenAICompatibleProvider,
    evaluate_prompt,
    register_prompt,
)
from loopline.llm._evalset import EvalCase, load_eval_set
from loopline.llm._evaluators import Answer, run_check, validate_check
from tests.llm.conftest import JSON_PROMPT, PROSE_PROMPT, LlmServer, write_jsonl

CASE = EvalCase("c", {"q": "x"}, expected="42")


def check(
    spec: dict[str, object], text: str, case: EvalCase = CASE, **kw: float
) -> tuple[bool, str]:
    validate_check(spec, case, "test")
    r = run_check(spec, case, Answer(text, **kw), Judges())  # type: ignore[arg-type]
    return r.passed, r.reason


def test_text_checks() -> None:
    assert check({"type": "exact"}, " 42 ")[0]
    assert not check({"type": "exact", "value": "Yes"}, "yes")[0]
    assert check({"type": "exact", "value": "Yes", "ignore_case": True}, "yes")[0]
    assert check({"type": "contains", "value": "refund"}, "a refund is due")[0]
    assert not check({"type": "not_contains", "value": "sorry"}, "so sorry")[0]
    assert check({"type": "regex", "pattern": r"^ORD-\d{4}$"}, "ORD-1234")[0]


def test_json_schema_and_numeric() -> None:
    schema = {"type": "object", "required": ["total"], "properties": {"total": {"type": "number"}}}
    assert check({"type": "json_schema", "schema": schema}, '{"total": 3}')[0]
    ok, why = check({"type": "json_schema", "schema": schema}, '{"sum": 3}')
    assert not ok and "'total' is a required property" in why
    assert check({"type": "numeric", "tolerance": 0.5}, "about 42.4 dollars")[0]
    assert not check({"type": "numeric", "tolerance": 0.5}, "about 43 dollars")[0]
    assert check({"type": "numeric", "value": 100, "tolerance": 0.01, "relative": True}, "100.9")[0]
    assert check({"type": "numeric", "key": "a.total", "tolerance": 0}, '{"a": {"total": 42}}')[0]
    assert check({"type": "numeric", "tolerance": 1}, "no digits")[1] == "no number in the answer"


def test_latency_and_cost() -> None:
    assert check({"type": "latency", "max_ms": 100}, "x", latency_ms=80)[0]
    assert not check({"type": "cost", "max_usd": 0.001}, "x", cost_usd=0.002)[0]


def test_malformed_checks_are_refused_up_front() -> None:
    with pytest.raises(InvalidInputError, match="unknown check type 'fuzzy'"):
        validate_check({"type": "fuzzy"}, CASE, "case c")
    with pytest.raises(InvalidInputError, match="does not compile"):
        validate_check({"type": "regex", "pattern": "("}, CASE, "case c")
    with pytest.raises(InvalidInputError, match="needs a 'rubric'"):
        validate_check({"type": "judge"}, CASE, "case c")


def test_similarity_uses_the_real_local_embedding_model() -> None:
    case = EvalCase("c", {}, expected="You can get your money back within 30 days.")
    judges = Judges(embedder=Embedder())
    spec = {"type": "similarity", "threshold": 0.5}
    close = run_check(
        spec, case, Answer("Refunds are possible for 30 days after purchase."), judges
    )
    far = run_check(spec, case, Answer("The weather in Paris is sunny."), judges)
    assert close.passed and not far.passed
    assert 0.5 < close.score <= 1.0 and far.score < 0.3


def test_llm_as_judge_through_the_provider(llm_server: LlmServer) -> None:
    judges = Judges(judge=OpenAICompatibleProvider(llm_server.url), judge_model="toy-judge")
    case = EvalCase("c", {"q": "refund?"}, rubric="Mentions the refund policy")
    good = run_check({"type": "judge"}, case, Answer("Yes, a refund within 30 days."), judges)
    bad = run_check({"type": "judge"}, case, Answer("Nice weather."), judges)
    assert good.passed and good.score == 5 and not bad.passed and bad.score == 2
    sent = llm_server.received[0]
    assert (
        sent["model"] == "toy-judge"
        and "Mentions the refund policy" in sent["messages"][1]["content"]
    )


def test_eval_report_lists_failing_cases_and_why(llm_server: LlmServer, tmp_path: Path) -> None:
    rows = [
        {"id": "ok", "vars": {"customer": "A", "question": "refund?"},
         "checks": [{"type": "contains", "value": "refund"}]},
        {"id": "bad", "vars": {"customer": "B", "question": "hello"},
         "checks": [{"type": "contains", "value": "refund"}, {"type": "latency", "max_ms": 10000}]},
        {"id": "exact", "vars": {"customer": "C", "question": "x"}, "expected": "nope"},
    ]  # fmt: skip
    es = load_eval_set(write_jsonl(tmp_path / "e.jsonl", rows))
    register_prompt("p", PROSE_PROMPT)
    report = evaluate_prompt(
        "prompts:/p/1", es, OpenAICompatibleProvider(llm_server.url), record=False
    )
    assert report.metrics["pass_rate"] == pytest.approx(1 / 3)
    assert (
        report.metrics["pass_rate.contains"] == 0.5 and report.metrics["pass_rate.latency"] == 1.0
    )
    why = {c.case_id: c.why for c in report.failures}
    assert why["bad"] == "contains: 'refund' not found"
    assert why["exact"].startswith("exact: expected 'nope'")


def test_provider_failure_fails_the_case_not_the_run(llm_server: LlmServer, tmp_path: Path) -> None:
    register_prompt("p", JSON_PROMPT)
    row = {
        "id": "a",
        "vars": {"customer": "A", "question": "q"},
        "checks": [{"type": "json_schema"}],
    }
    es = load_eval_set(write_jsonl(tmp_path / "e.jsonl", [row]))
    llm_server.script = [(400, {"error": "context too long"}, {})]
    report = evaluate_prompt("prompts:/p/1", es, OpenAICompatibleProvider(llm_server.url))
    assert report.metrics["errors"] == 1 and report.metrics["pass_rate"] == 0
    assert "HTTP 400" in report.failures[0].why


def test_eval_set_errors_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "expected": "x"}\n{not json}\n')
    with pytest.raises(InvalidInputError, match=r"bad.jsonl:2: not valid JSON"):
        load_eval_set(path)
    path.write_text('{"id": "a", "vars": {}}\n')
    with pytest.raises(InvalidInputError, match="needs 'expected', 'checks' or a 'rubric'"):
        load_eval_set(path)
