from __future__ import annotations

import json

import pytest

from loopline.llm import (
    BlockedTerms,
    GuardrailPipeline,
    GuardrailViolation,
    JsonOutput,
    LengthLimit,
    OpenAICompatibleProvider,
    PiiRedaction,
)
from loopline.llm._provider import ChatResult
from tests.llm.conftest import SCHEMA, LlmServer


def _call(server: LlmServer):  # type: ignore[no-untyped-def]
    provider = OpenAICompatibleProvider(server.url)
    return lambda msgs: provider.chat(msgs, model="toy-1")


def msgs(system: str, user: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def test_pii_is_redacted_before_it_reaches_the_provider(llm_server: LlmServer) -> None:
    pipeline = GuardrailPipeline([PiiRedaction()])
    out = pipeline.run(
        _call(llm_server),
        msgs("Be brief.", "Question: mail me at ada@example.com, card 4111 1111 1111 1111"),
    )
    sent = llm_server.received[0]["messages"][1]["content"]
    assert "ada@example.com" not in sent and "4111" not in sent
    assert sent == "Question: mail me at [EMAIL], card [CARD]"
    assert "[EMAIL]" in out.text  # the toy model echoes the redacted question
    (event,) = [e for e in out.events if e.stage == "input"]
    assert event.guardrail == "pii" and event.detail == {"types": {"email": 1, "card": 1}}


def test_blocked_terms_and_length_block_before_any_call(llm_server: LlmServer) -> None:
    pipeline = GuardrailPipeline([LengthLimit(max_input_chars=50), BlockedTerms(["password"])])
    with pytest.raises(GuardrailViolation, match="blocked_terms") as exc:
        pipeline.run(_call(llm_server), msgs("x", "Question: what is the admin Password?"))
    assert exc.value.details["events"][0]["detail"] == {"terms": ["password"]}
    with pytest.raises(GuardrailViolation, match="length"):
        pipeline.run(_call(llm_server), msgs("x", "Question: " + "long " * 20))
    assert llm_server.received == []
    # "passwords" is not the whole word "password"
    pipeline.run(_call(llm_server), msgs("x", "Question: passwords?"))


def test_output_length_truncates_and_output_terms_block(llm_server: LlmServer) -> None:
    out = GuardrailPipeline([LengthLimit(max_output_chars=10, action="truncate")]).run(
        _call(llm_server), msgs("x", "Question: hello there")
    )
    assert out.text == "Sure! Happ" and out.events[0].action == "truncated"
    with pytest.raises(GuardrailViolation, match="output"):
        GuardrailPipeline([BlockedTerms(["happy"], stages=["output"])]).run(
            _call(llm_server), msgs("x", "Question: hi")
        )


def test_json_output_is_repaired_with_one_retry(llm_server: LlmServer) -> None:
    pipeline = GuardrailPipeline(json_output=JsonOutput(schema=SCHEMA))
    out = pipeline.run(_call(llm_server), msgs("Be friendly.", "Question: refund?"))
    assert json.loads(out.text) == {"answer": "fixed", "category": "general"}
    assert len(out.calls) == 2 and len(llm_server.received) == 2
    repair = llm_server.received[1]["messages"]
    assert repair[-2]["role"] == "assistant" and "not valid JSON" in repair[-1]["content"]
    assert [e.action for e in out.events] == ["repaired"]


def test_fenced_json_is_unwrapped_without_a_call(llm_server: LlmServer) -> None:
    out = GuardrailPipeline(json_output=JsonOutput(schema=SCHEMA)).run(
        _call(llm_server), msgs("Use a fenced block.", "Question: refund?")
    )
    assert json.loads(out.text)["category"] == "billing" and len(llm_server.received) == 1


def test_json_still_invalid_after_repair_is_blocked(llm_server: LlmServer) -> None:
    llm_server.answer = lambda body: "never JSON"
    with pytest.raises(GuardrailViolation, match="not valid JSON") as exc:
        GuardrailPipeline(json_output=JsonOutput()).run(_call(llm_server), msgs("x", "y"))
    assert [e["action"] for e in exc.value.details["events"]] == ["invalid"]
    assert len(llm_server.received) == 2  # exactly one repair retry


def test_schema_itself_is_checked_up_front() -> None:
    from loopline.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="JSON schema is invalid"):
        JsonOutput(schema={"type": "no-such-type"})


def test_pipeline_works_around_any_callable() -> None:
    def fake(msgs: list[dict[str, str]]) -> ChatResult:
        return ChatResult("call +1 415 555 2671", "m", 1, 1, 1.0, 0.0)

    out = GuardrailPipeline([PiiRedaction(stages=["output"])]).run(fake, msgs("s", "u"))
    assert out.text == "call [PHONE]"
