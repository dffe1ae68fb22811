"""Errors of the LLM layer: all `LooplineError`s (one line: what, where, how to fix)."""

from __future__ import annotations

from loopline.errors import LooplineError


class ProviderError(LooplineError):
    """The model provider failed or refused the request (after retries, where retried)."""

    code = "provider_error"
    http_status = 502


class GuardrailViolation(LooplineError):
    """A guardrail blocked a request or a response; `details["events"]` says which and why."""

    code = "guardrail_blocked"
    http_status = 422


class MissingExtraError(LooplineError):
    """An optional dependency of `loopline[llm]` is not installed."""

    code = "missing_extra"
    http_status = 500


__all__ = ["GuardrailViolation", "MissingExtraError", "ProviderError"]
