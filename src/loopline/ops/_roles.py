"""Roles and what each may do: one table, checked in the library layer.

The check runs in the governed store (`loopline.store._governed`) that every library call
goes through, so the rule holds for the Python API, the CLI and the REST API alike; the
server only says *who* is calling (from the API token), never *what they may do*.

Embedded mode (no principal set) is the local owner of the SQLite file and may do
everything except approve their own model: whoever can open the file could edit it anyway,
so the security boundary is the team server.
"""

from __future__ import annotations

from loopline.errors import PermissionDeniedError
from loopline.identity import (
    ROLES,
    Principal,
    acting_as,
    check_role,
    current_principal,
)

# action → what it covers (the docs print this table with the matrix below)
ACTIONS: dict[str, str] = {
    "read": "read anything: runs, models, deployments, monitors, alerts, audit, DORA",
    "runs.write": "create experiments and runs; log params, metrics, tags, artifacts, datasets",
    "models.register": "register model versions and edit their cards",
    "evaluate": "record an evaluation of a version on a dataset (evidence for a protected "
    "alias only from the `ci` service role)",
    "alias.other": "move a non-protected alias (candidate, challenger, …)",
    "alias.staging": "promote to `staging`",
    "alias.production": "promote to `production`",
    "rollback": "roll an alias back to the version it held before",
    "approve": "approve a model version (never one's own)",
    "deploy": "start, advance and stop deployments (canary, shadow, blue-green, A/B)",
    "monitors.write": "configure monitors, run them, raise and resolve alerts, retrain requests",
    "policy.write": "register the gate policy of a protected alias (and protect an alias)",
    "models.owner": "set a model's owner team and on-call contact",
    "admin": "create, list and revoke API tokens",
}

_DS = frozenset({"read", "runs.write", "models.register", "evaluate", "alias.other"})
PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"read"}),
    "data-scientist": _DS,
    "ml-engineer": _DS | {"alias.staging", "rollback", "deploy", "monitors.write", "models.owner"},
    "approver": frozenset(
        {"read", "evaluate", "approve", "alias.production", "rollback", "policy.write"}
    ),
    # The CI service identity: runs pipelines (train, register, promote to staging)
    # and records the evaluations a protected alias's gate trusts. People do not hold it;
    # production still needs an approver to move it (and the policy's approvals).
    "ci": frozenset(
        {"read", "runs.write", "models.register", "evaluate", "alias.other", "alias.staging"}
    ),
    "admin": frozenset(ACTIONS),
}


def roles_allowed(action: str) -> list[str]:
    return [r for r in ROLES if action in PERMISSIONS[r]]


def authorize(action: str, principal: Principal | None = None) -> None:
    """Raise PermissionDeniedError (403) unless the caller's role allows `action`."""
    p = principal or current_principal()
    if p is None:  # embedded mode: the owner of the local store
        return
    if action not in PERMISSIONS.get(p.role, frozenset()):
        raise PermissionDeniedError(
            f"{p.name} ({p.role}) may not {action}",
            hint=f"this needs the role {' or '.join(roles_allowed(action))}",
            details={"action": action, "role": p.role, "allowed": roles_allowed(action)},
        )


def alias_action(alias: str) -> str:
    """The action that moving `alias` needs: production and staging are protected."""
    return {"production": "alias.production", "staging": "alias.staging"}.get(alias, "alias.other")


def permission_matrix() -> str:
    """The role-by-action table as Markdown (printed in docs/server.md)."""
    head = "| action | " + " | ".join(ROLES) + " |\n|---|" + "---|" * len(ROLES) + "\n"
    rows = [
        f"| `{a}` — {desc} | "
        + " | ".join("allow" if a in PERMISSIONS[r] else "deny" for r in ROLES)
        + " |"
        for a, desc in ACTIONS.items()
    ]
    return head + "\n".join(rows) + "\n"


__all__ = [
    "ACTIONS",
    "PERMISSIONS",
    "ROLES",
    "Principal",
    "acting_as",
    "alias_action",
    "authorize",
    "check_role",
    "current_principal",
    "permission_matrix",
    "roles_allowed",
]
