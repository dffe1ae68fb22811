"""Who is acting: canonical user names, the roles and what each may do, the caller of the
current request, and `current_user()`.

Core layer (imports only `errors`): the store compares users (the two-person rule, distinct
approvers) and checks roles in the same transaction as a change, so these rules sit below
it. In remote mode the acting user is whoever the team server says the token belongs to;
the store's HTTP client hands that question in with `use_remote_identity`, so this module
never imports the store.

A user name is canonical when it is NFKC-normalised, case-folded and made only of
`a-z 0-9 . _ @ -`, starting with a letter or digit, at most 128 characters. Canonical
names make `U_data-scientist`, `u_data-scientist ` and a U+2010 look-alike either the same
person or refused, never a second approver.
"""

from __future__ import annotations

import getpass
import os
import re
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from loopline.errors import ConfigError, InvalidInputError, PermissionDeniedError

ROLES = ("viewer", "data-scientist", "ml-engineer", "approver", "ci", "admin")
# The pseudo-role of embedded mode (no server, no token): the owner of the local store
# file. No token can carry it (`check_role` refuses it).
OWNER = "owner"
# Evaluations recorded by these count as evidence for a protected alias: a CI service
# identity that people do not hold, the embedded owner (whose file is the boundary), and
# admin (who can mint a ci token anyway, so trusting it grants nothing new).
TRUSTED_EVALUATOR_ROLES = frozenset({"ci", "admin", OWNER})
# Who may register the gate policy of a protected alias (checked by the store when a
# decision carries a new policy; `PERMISSIONS["policy.write"]` below agrees, tested).
POLICY_WRITERS = frozenset({"approver", "admin", OWNER})

_USER = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,127}$")


def canonical_user(name: str) -> str:
    """`name` in canonical form, or InvalidInputError naming the rule it breaks."""
    if not isinstance(name, str):
        raise InvalidInputError(f"user name {name!r} is not text", hint="send a string")
    canon = unicodedata.normalize("NFKC", name).casefold()
    if not _USER.fullmatch(canon):
        raise InvalidInputError(
            f"user name {name!r} is not allowed",
            hint="use 1-128 characters from a-z 0-9 . _ @ - (lower case), starting with a "
            "letter or digit, e.g. 'alice' or 'ci-bot'",
        )
    return canon


def same_user(a: str, b: str) -> bool:
    """True when `a` and `b` name one person (compared in canonical form).

    Names stored before canonical names existed may not canonicalise; they are then
    compared NFKC+casefolded, so a look-alike still counts as the same person."""

    def fold(s: str) -> str:
        return unicodedata.normalize("NFKC", s).casefold().strip()

    return fold(a) == fold(b)


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInputError(f"unknown role {role!r}", hint=f"use one of: {', '.join(ROLES)}")
    return role


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user, their role, their team."""

    name: str
    role: str
    team: str | None = None


_CURRENT: ContextVar[Principal | None] = ContextVar("loopline_principal", default=None)


def current_principal() -> Principal | None:
    """The caller set by the server for this request (or `acting_as`), else None."""
    return _CURRENT.get()


@contextmanager
def acting_as(principal: Principal | None) -> Iterator[Principal | None]:
    """Run the enclosed library calls as `principal` (the server does this per request)."""
    token = _CURRENT.set(principal)
    try:
        yield principal
    finally:
        _CURRENT.reset(token)


# action → what it covers (the docs print this table with the matrix, `ops.permission_matrix`)
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
    """Raise PermissionDeniedError (403) unless the caller's role allows `action`.

    Embedded mode (no principal set) is the local owner of the store file and may do
    everything the store itself does not refuse: whoever can open the file could edit it
    anyway, so the security boundary is the team server."""
    p = principal or current_principal()
    if p is None:
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


# Remote mode: asks the team server who the configured token belongs to. Registered by the
# store's HTTP client (`loopline.store`), which is what knows how to ask.
_REMOTE_WHOAMI: Callable[[], Principal] | None = None


def use_remote_identity(whoami: Callable[[], Principal]) -> None:
    """Install how remote mode (LOOPLINE_URL set) learns the caller from the server."""
    global _REMOTE_WHOAMI
    _REMOTE_WHOAMI = whoami


def current_user() -> str:
    """Who is acting: `LOOPLINE_USER` if set, else the operating-system user.

    Recorded as the actor of every audit event. Inside a team-server request it is the
    user behind the API token; in remote mode, whoever the server says the token is.
    """
    principal = current_principal()
    if principal is not None:  # inside a team-server request: the token's user
        return principal.name
    if os.environ.get("LOOPLINE_URL"):  # remote mode: whoever the server says we are
        if _REMOTE_WHOAMI is None:
            raise ConfigError(
                "LOOPLINE_URL is set but the team-server client is not loaded",
                hint="import loopline.store (or open a store) before asking who is acting",
            )
        return _REMOTE_WHOAMI().name
    explicit = os.environ.get("LOOPLINE_USER", "").strip()
    if explicit:
        return canonical_user(explicit)  # the two-person rule compares canonical names
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
    try:
        return canonical_user(name)
    except InvalidInputError:
        raise ConfigError(
            f"the operating-system user {name!r} is not a valid Loopline user name",
            hint="set LOOPLINE_USER to a name from a-z 0-9 . _ @ -",
        ) from None


__all__ = [
    "ACTIONS",
    "OWNER",
    "PERMISSIONS",
    "POLICY_WRITERS",
    "ROLES",
    "TRUSTED_EVALUATOR_ROLES",
    "Principal",
    "acting_as",
    "alias_action",
    "authorize",
    "canonical_user",
    "check_role",
    "current_principal",
    "current_user",
    "roles_allowed",
    "same_user",
    "use_remote_identity",
]
