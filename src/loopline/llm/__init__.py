"""LLMOps: prompts, eval sets, evaluators, providers, guardrails, tracing, retrieval quality.

Prompts and retrieval indexes are registry versions (flavors `prompt`, `embedding_index`),
so aliases, approvals, gates, canaries, rollback and the audit log work on them unchanged.

    import loopline.llm as llm
    v = llm.register_prompt("support-reply", "prompts/support-reply.yaml")
    report = llm.evaluate_prompt(f"prompts:/support-reply/{v.version}", "evals/support.jsonl",
                                 llm.provider_from_config())
    llm.promote_prompt("support-reply", v.version, policy="gate.yaml")
    llm.load_prompt("prompts:/support-reply@production").format(question="...")
"""

from loopline.llm._client import Completion, PromptClient, PromptRouter
from loopline.llm._embeddings import Embedder
from loopline.llm._errors import GuardrailViolation, MissingExtraError, ProviderError
from loopline.llm._eval import CaseResult, EvalReport, evaluate_prompt
from loopline.llm._evalset import EvalCase, EvalSet, load_eval_set
from loopline.llm._evaluators import CheckResult, Judges
from loopline.llm._gate import PromptPromotion, promote_prompt
from loopline.llm._guardrails import (
    BlockedTerms,
    Guardrail,
    GuardrailEvent,
    GuardrailPipeline,
    JsonOutput,
    LengthLimit,
    PiiRedaction,
)
from loopline.llm._monitor import TraceSlo, check_traces
from loopline.llm._pii import find_pii, redact
from loopline.llm._prompts import Prompt, PromptTemplate, diff_prompts, load_prompt, register_prompt
from loopline.llm._provider import (
    ChatResult,
    OpenAICompatibleProvider,
    Pricing,
    provider_from_config,
)
from loopline.llm._retrieval import (
    EmbeddingIndex,
    build_index,
    evaluate_index,
    evaluate_index_version,
    hit_rate_at_k,
    load_index,
    mrr,
    ndcg_at_k,
    register_index,
)
from loopline.llm._tracing import Trace, TraceLog, summarize
from loopline.llm._uri import parse_prompt_uri

__all__ = [
    "BlockedTerms",
    "CaseResult",
    "ChatResult",
    "CheckResult",
    "Completion",
    "Embedder",
    "EmbeddingIndex",
    "EvalCase",
    "EvalReport",
    "EvalSet",
    "Guardrail",
    "GuardrailEvent",
    "GuardrailPipeline",
    "GuardrailViolation",
    "JsonOutput",
    "Judges",
    "LengthLimit",
    "MissingExtraError",
    "OpenAICompatibleProvider",
    "PiiRedaction",
    "Pricing",
    "Prompt",
    "PromptClient",
    "PromptPromotion",
    "PromptRouter",
    "PromptTemplate",
    "ProviderError",
    "Trace",
    "TraceLog",
    "TraceSlo",
    "build_index",
    "check_traces",
    "diff_prompts",
    "evaluate_index",
    "evaluate_index_version",
    "evaluate_prompt",
    "find_pii",
    "hit_rate_at_k",
    "load_eval_set",
    "load_index",
    "load_prompt",
    "mrr",
    "ndcg_at_k",
    "parse_prompt_uri",
    "promote_prompt",
    "provider_from_config",
    "redact",
    "register_index",
    "register_prompt",
    "summarize",
]
