"""An OpenAI-compatible chat-completions client: vLLM, Ollama, llama.cpp server, hosted APIs.

`POST {base_url}/chat/completions` with httpx; a timeout per request, retries with
exponential backoff (and `Retry-After`) on 429, 5xx and connection errors, a client-side
rate limit (requests per second, shared by threads), and cost from per-model token prices.

    provider = OpenAICompatibleProvider("http://127.0.0.1:8000/v1", pricing={
        "llama-3-8b": Pricing(input_per_mtok=0.05, output_per_mtok=0.10)})
    result = provider.chat(messages, model="llama-3-8b", temperature=0)
    result.text, result.tokens_in, result.tokens_out, result.cost_usd, result.latency_ms
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from loopline.config import config_section, config_values
from loopline.errors import ConfigError
from loopline.llm._errors import ProviderError

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Pricing:
    """US dollars per million tokens, as providers publish them."""

    input_per_mtok: float = 0.0
    output_per_mtok: float = 0.0

    def cost(self, tokens_in: int, tokens_out: int) -> float:
        return (tokens_in * self.input_per_mtok + tokens_out * self.output_per_mtok) / 1e6


@dataclass(frozen=True)
class ChatResult:
    text: str
    model: str
    tokens_in: int
    tokens_out: int
    latency_ms: float
    cost_usd: float
    attempts: int = 1
    finish_reason: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


class ChatProvider(Protocol):
    def chat(
        self, messages: Sequence[Mapping[str, str]], *, model: str | None = None, **params: Any
    ) -> ChatResult: ...


class RateLimiter:
    """At most `per_second` acquisitions per second, spaced evenly, across threads."""

    def __init__(self, per_second: float | None) -> None:
        self.interval = 0.0 if not per_second else 1.0 / per_second
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait for a slot; returns the seconds waited."""
        if self.interval <= 0:
            return 0.0
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        wait = start - now
        if wait > 0:
            time.sleep(wait)
        return wait


class OpenAICompatibleProvider:
    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        default_model: str | None = None,
        timeout_s: float = 30.0,
        max_retries: int = 3,
        backoff_s: float = 0.5,
        max_backoff_s: float = 8.0,
        requests_per_second: float | None = None,
        pricing: Mapping[str, Pricing] | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"provider base URL {base_url!r} is not http(s)",
                hint="e.g. http://127.0.0.1:8000/v1 (vLLM) or http://127.0.0.1:11434/v1 (Ollama)",
            )
        self.base_url = base_url.rstrip("/")
        self.default_model = default_model
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.pricing = dict(pricing or {})
        self.limiter = RateLimiter(requests_per_second)
        headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=httpx.Timeout(timeout_s), headers=headers)

    def close(self) -> None:
        self._client.close()

    def price(self, model: str, tokens_in: int, tokens_out: int) -> float:
        pricing = self.pricing.get(model) or self.pricing.get("*")
        return pricing.cost(tokens_in, tokens_out) if pricing else 0.0

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        retry_after = response.headers.get("retry-after") if response is not None else None
        if retry_after:
            try:
                return float(min(max(float(retry_after), 0.0), self.max_backoff_s))
            except ValueError:
                pass
        return float(min(self.backoff_s * 2.0**attempt, self.max_backoff_s))

    def chat(
        self, messages: Sequence[Mapping[str, str]], *, model: str | None = None, **params: Any
    ) -> ChatResult:
        """One chat completion; raises ProviderError once retries are spent."""
        name = model or self.default_model
        if not name:
            raise ConfigError(
                "no model named for the chat call",
                hint="set 'model' in the prompt template or LOOPLINE_LLM_MODEL",
            )
        body = {"model": name, "messages": [dict(m) for m in messages], **params}
        url = f"{self.base_url}/chat/completions"
        t0 = time.perf_counter()
        last = "no attempt made"
        for attempt in range(self.max_retries + 1):
            self.limiter.acquire()
            response: httpx.Response | None = None
            try:
                response = self._client.post(url, json=body)
            except httpx.TimeoutException:
                last = "timed out"
            except httpx.TransportError as exc:
                last = f"connection failed ({type(exc).__name__})"
            else:
                if response.status_code < 400:
                    return self._result(response, name, t0, attempt + 1)
                last = f"HTTP {response.status_code}: {response.text[:200]}"
                if response.status_code not in RETRY_STATUS:
                    raise ProviderError(
                        f"{url} refused the request for model {name!r}: {last}",
                        hint="check the model name, the API key and the request parameters",
                        details={"status": response.status_code},
                    )
            if attempt < self.max_retries:
                time.sleep(self._delay(attempt, response))
        raise ProviderError(
            f"{url} failed {self.max_retries + 1} time(s) for model {name!r}: {last}",
            hint="is the server up and not overloaded? raise timeout/max_retries or lower the rate",
            details={"attempts": self.max_retries + 1},
        )

    def _result(self, response: httpx.Response, model: str, t0: float, attempts: int) -> ChatResult:
        try:
            data = response.json()
            choice = data["choices"][0]
            text = choice["message"].get("content") or ""
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise ProviderError(
                f"{response.url} answered with no chat completion: {response.text[:200]!r}",
                hint="is base_url an OpenAI-compatible /v1 endpoint?",
            ) from None
        usage = data.get("usage") or {}
        tokens_in = int(usage.get("prompt_tokens") or 0)
        tokens_out = int(usage.get("completion_tokens") or 0)
        if not usage:  # servers that report no usage: estimate ~4 characters per token
            tokens_out = math.ceil(len(text) / 4)
        served = str(data.get("model") or model)
        return ChatResult(
            text=str(text),
            model=served,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            latency_ms=(time.perf_counter() - t0) * 1000,
            cost_usd=self.price(model, tokens_in, tokens_out),
            attempts=attempts,
            finish_reason=choice.get("finish_reason"),
            raw=data,
        )


# The `[llm]` table's keys and defaults; `[llm.pricing.<model>]` tables take _PRICE_KEYS.
_LLM_KEYS: dict[str, Any] = {
    "base_url": "",
    "api_key": "",
    "model": "",
    "timeout_s": 30.0,
    "max_retries": 3,
    "requests_per_second": 0.0,  # 0: no client-side limit
    "pricing": {},
}
_PRICE_KEYS: dict[str, Any] = {"input_per_mtok": 0.0, "output_per_mtok": 0.0}
_LLM_HINT = "see docs/llmops.md, Providers"


def provider_from_config(base_url: str | None = None) -> OpenAICompatibleProvider:
    """The provider `LOOPLINE_LLM_*` variables (over `[llm]` in loopline.toml) describe.

    Keys: base_url, api_key, model, timeout_s, max_retries, requests_per_second, and
    `[llm.pricing.<model>]` tables with input_per_mtok / output_per_mtok. Read through
    `loopline.config`, so a bad value fails as a bad setting does (ConfigError, one line).
    """
    values = config_section("llm", _LLM_KEYS, hint=_LLM_HINT)
    url = base_url or values["base_url"]
    if not url:
        raise ConfigError(
            "no LLM provider configured",
            hint="set LOOPLINE_LLM_BASE_URL (e.g. http://127.0.0.1:8000/v1) or [llm] base_url "
            "in loopline.toml, or pass --base-url",
        )
    pricing = {}
    for model, table in values["pricing"].items():
        where = f"[llm.pricing.{model}]"
        if not isinstance(table, dict):
            raise ConfigError(f"{where} must be a table of prices", hint=_LLM_HINT)
        prices = config_values(table, _PRICE_KEYS, where, hint=_LLM_HINT)
        pricing[str(model)] = Pricing(prices["input_per_mtok"], prices["output_per_mtok"])
    return OpenAICompatibleProvider(
        str(url),
        api_key=values["api_key"] or None,
        default_model=values["model"] or None,
        timeout_s=values["timeout_s"] or 30.0,
        max_retries=values["max_retries"],
        requests_per_second=values["requests_per_second"] or None,
        pricing=pricing,
    )


__all__ = [
    "RETRY_STATUS",
    "ChatProvider",
    "ChatResult",
    "OpenAICompatibleProvider",
    "Pricing",
    "RateLimiter",
    "provider_from_config",
]
