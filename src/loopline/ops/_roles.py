"""The role table rendered for people; the rules themselves live in `loopline.identity`.

The check runs in the governed store (`loopline.store.governed`) that every library call
goes through, so the rule holds for the Python API, the CLI and the REST API alike; the
server only says *who* is calling (from the API token), never *what they may do*. The
table sits in the core layer because the store, below this package, enforces it.
"""

from __future__ import annotations

from loopline.identity import (
    ACTIONS,
    PERMISSIONS,
    ROLES,
    Principal,
    acting_as,
    alias_action,
    authorize,
    check_role,
    current_principal,
    roles_allowed,
)


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


# The server and tests import these from here; `loopline.identity` is their home.
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
