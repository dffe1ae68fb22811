"""Promoting a prompt version through the same gate as models, evaluated on an eval set."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from loopline._renamed import renamed_keywords
from loopline.errors import NotFoundError
from loopline.gates import PromotionResult, promote
from loopline.llm._eval import EvalReport, evaluate_prompt
from loopline.llm._evalset import EvalSet, load_eval_set
from loopline.llm._evaluators import Judges
from loopline.llm._guardrails import GuardrailPipeline
from loopline.llm._prompts import FLAVOR
from loopline.llm._provider import ChatProvider
from loopline.policy import GatePolicy
from loopline.store import open_metadata_store


@dataclass(frozen=True)
class PromptPromotion:
    result: PromotionResult
    candidate: EvalReport | None
    champion: EvalReport | None

    @property
    def promoted(self) -> bool:
        return self.result.promoted


# `to=` was last release's keyword for the alias (docs/vocabulary.md §7): it works for one
# more release. The first argument stays `name`, as in `register_prompt(name, template)`.
@renamed_keywords(to="alias")
def promote_prompt(
    name: str,
    version: int,
    alias: str = "production",
    *,
    policy: GatePolicy | str | Path | None = None,
    eval_set: EvalSet | str | Path | None = None,
    provider: ChatProvider | None = None,
    judges: Judges | None = None,
    guardrails: GuardrailPipeline | None = None,
    reason: str | None = None,
) -> PromptPromotion:
    """Gate prompt `name/version` against the holder of `alias`; move the alias if it passes.

    With `eval_set` (and `provider`), the candidate is evaluated on it first, and so is the
    champion unless it already has an evaluation on that exact set; the gate then compares
    both on the same cases. Without, their stored evaluations are used.
    """
    store = open_metadata_store()
    if store.get_version(name, version).flavor != FLAVOR:
        from loopline.errors import InvalidInputError

        raise InvalidInputError(
            f"{name}/{version} is not a prompt", hint="use `loopline models promote` for models"
        )
    candidate = champion = None
    if eval_set is not None:
        if provider is None:
            from loopline.llm._provider import provider_from_config

            provider = provider_from_config()
        es = eval_set if isinstance(eval_set, EvalSet) else load_eval_set(eval_set)
        candidate = evaluate_prompt(
            f"prompts:/{name}/{version}", es, provider, judges=judges, guardrails=guardrails
        )
        try:
            holder = store.get_version_by_alias(name, alias)
        except NotFoundError:
            holder = None
        if holder is not None and holder.version != version:
            done = {e.dataset_fingerprint for e in store.list_evaluations(name, holder.version)}
            if es.fingerprint not in done:
                champion = evaluate_prompt(
                    f"prompts:/{name}/{holder.version}",
                    es,
                    provider,
                    judges=judges,
                    guardrails=guardrails,
                )
    result = promote(name, version, alias, policy=policy, reason=reason)
    return PromptPromotion(result, candidate, champion)


__all__ = ["PromptPromotion", "promote_prompt"]
