from __future__ import annotations

import time

import pytest

from loopline.errors import ConfigError
from loopline.llm import OpenAICompatibleProvider, Pricing, ProviderError, provider_from_config
from tests.llm.conftest import LlmServer

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Question: hi"}]


def test_chat_reports_tokens_cost_and_latency(llm_server: LlmServer) -> None:
    p = OpenAICompatibleProvider(
        llm_server.url, pricing={"toy-1": Pricing(input_per_mtok=1000.0, output_per_mtok=2000.0)}
    )
    r = p.chat(MESSAGES, model="toy-1", temperature=0)
    assert r.text == "Sure! Happy to help with: hi"
    assert (r.tokens_in, r.tokens_out) == (4, 6)
    assert r.cost_usd == pytest.approx((4 * 1000 + 6 * 2000) / 1e6)
    assert r.latency_ms > 0 and r.attempts == 1 and r.finish_reason == "stop"
    assert llm_server.received[0]["temperature"] == 0 and llm_server.received[0]["model"] == "toy-1"


def test_retries_on_429_and_5xx_with_retry_after(llm_server: LlmServer) -> None:
    llm_server.script = [(429, {"error": "slow down"}, {"retry-after": "0.2"}),
                         (503, {"error": "busy"}, {})]  # fmt: skip
    p = OpenAICompatibleProvider(llm_server.url, backoff_s=0.01, max_retries=3)
    r = p.chat(MESSAGES, model="toy-1")
    assert r.attempts == 3 and len(llm_server.received) == 3
    assert llm_server.times[1] - llm_server.times[0] >= 0.19  # honoured Retry-After


def test_gives_up_after_retries_and_does_not_retry_4xx(llm_server: LlmServer) -> None:
    llm_server.script = [(500, {}, {})] * 3
    p = OpenAICompatibleProvider(llm_server.url, backoff_s=0.01, max_retries=2)
    with pytest.raises(ProviderError, match="failed 3 time"):
        p.chat(MESSAGES, model="toy-1")
    llm_server.script = [(400, {"error": {"message": "bad model"}}, {})]
    n = len(llm_server.received)
    with pytest.raises(ProviderError, match=r"refused the request.*HTTP 400"):
        p.chat(MESSAGES, model="nope")
    assert len(llm_server.received) == n + 1


def test_timeout_is_a_provider_error(llm_server: LlmServer) -> None:
    llm_server.delay_s = 0.5
    p = OpenAICompatibleProvider(llm_server.url, timeout_s=0.1, max_retries=1, backoff_s=0.01)
    t0 = time.monotonic()
    with pytest.raises(ProviderError, match="timed out"):
        p.chat(MESSAGES, model="toy-1")
    assert time.monotonic() - t0 < 1.0


def test_client_side_rate_limit(llm_server: LlmServer) -> None:
    p = OpenAICompatibleProvider(llm_server.url, requests_per_second=10)
    for _ in range(5):
        p.chat(MESSAGES, model="toy-1")
    spread = llm_server.times[-1] - llm_server.times[0]
    assert spread >= 0.38  # 5 requests at 10/s: 4 intervals of 0.1 s


def test_connection_refused_is_retried_then_reported() -> None:
    p = OpenAICompatibleProvider("http://127.0.0.1:9/v1", max_retries=1, backoff_s=0.01)
    with pytest.raises(ProviderError, match="connection failed"):
        p.chat(MESSAGES, model="toy-1")


def test_config_from_env_and_toml(
    llm_server: LlmServer, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    with pytest.raises(ConfigError, match="no LLM provider configured"):
        provider_from_config()
    from pathlib import Path

    Path("loopline.toml").write_text(
        '[llm]\nmodel = "toy-1"\n[llm.pricing.toy-1]\ninput_per_mtok = 1e6\noutput_per_mtok = 0\n'
    )
    monkeypatch.setenv("LOOPLINE_LLM_BASE_URL", llm_server.url)
    p = provider_from_config()
    r = p.chat(MESSAGES)
    assert r.model == "toy-1" and r.cost_usd == pytest.approx(4.0)
    with pytest.raises(ConfigError, match="not http"):
        OpenAICompatibleProvider("ftp://x")
