"""The approvals page: versions waiting for a protected alias, each with the gate's latest
decision for that alias and the approvals the alias's policy asks for.

Nothing here decides anything: the decision shown is the one the store recorded, and the
page's approve and promote buttons call the library (`registry.approve`, `gates.promote`),
whose store runs the promotion protocol and the role check exactly as for the CLI.
"""

from __future__ import annotations

from typing import Any

from loopline.errors import NotFoundError
from loopline.store import (
    AliasPolicy,
    GateDecisionRecord,
    MetadataStore,
    ModelVersion,
    RegisteredModel,
)

MODELS_PER_PAGE = 20
PENDING_SCAN = 20  # newest versions of a model looked at for each protected alias
PENDING_SHOWN = 5  # pending versions listed per alias (the newest)


def _protected(store: MetadataStore, model: RegisteredModel) -> list[AliasPolicy]:
    """The model's protected aliases among production (always protected) and the aliases it
    holds now; each with the policy in force."""
    names = sorted({"production", *model.aliases}, key=lambda a: (a != "production", a))
    policies = [store.get_alias_policy(model.name, a) for a in names]
    return [p for p in policies if p.protected]


def _latest_decision(
    store: MetadataStore, version: ModelVersion, alias: str
) -> GateDecisionRecord | None:
    decisions = [
        d for d in store.list_gate_decisions(version.model, version.version) if d.alias == alias
    ]
    return decisions[-1] if decisions else None


def _pending(
    store: MetadataStore,
    model: RegisteredModel,
    policy: AliasPolicy,
    newest: list[ModelVersion],
) -> dict[str, Any]:
    """Versions newer than the alias's holder (all of them if nothing holds it)."""
    holder = model.aliases.get(policy.alias)
    waiting = [v for v in newest if holder is None or v.version > holder][:PENDING_SHOWN]
    params = policy.policy
    return {
        "alias": policy.alias,
        "holder": holder,
        "revision": policy.revision,
        "rules": list(params.get("rules") or []),
        "needs": int(params.get("approvals_count") or 0),
        "needs_role": params.get("approvals_role"),
        "versions": [
            {
                "v": v,
                "decision": _latest_decision(store, v, policy.alias),
                "approvals": store.list_approvals(v.model, v.version),
            }
            for v in waiting
        ],
    }


def _flash(store: MetadataStore, model: str | None, moved: int, decision: int) -> dict[str, Any]:
    """What the last button did, from the record it left (an alias move or a refusal)."""
    if not model:
        return {}
    try:
        if moved:
            move = next((m for m in store.alias_history(model) if m.id == moved), None)
            return {"move": move} if move else {}
        if decision:
            for v in store.list_versions(model, limit=PENDING_SCAN):
                for d in store.list_gate_decisions(model, v.version):
                    if d.id == decision:
                        return {"refused": d, "refused_version": v.version, "model": model}
    except NotFoundError:
        return {}
    return {}


def approvals_page(
    store: MetadataStore,
    page: int,
    *,
    model: str | None = None,
    moved: int = 0,
    decision: int = 0,
    approved: int = 0,
) -> dict[str, Any]:
    models = sorted(store.list_models(), key=lambda m: m.name)
    pages = max(1, -(-len(models) // MODELS_PER_PAGE))
    page = min(max(1, page), pages)
    rows = []
    for m in models[(page - 1) * MODELS_PER_PAGE : page * MODELS_PER_PAGE]:
        newest = store.list_versions(m.name, limit=PENDING_SCAN)
        aliases = [_pending(store, m, p, newest) for p in _protected(store, m)]
        aliases = [a for a in aliases if a["versions"]]
        if aliases:
            rows.append({"model": m, "aliases": aliases})
    return {
        "models": rows,
        "page": page,
        "pages": pages,
        "flash": _flash(store, model, moved, decision),
        "approved": (model, approved) if model and approved else None,
    }


__all__ = ["approvals_page"]
