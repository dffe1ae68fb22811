"""Who is acting: canonical user names, the roles, and the caller of the current request.

Core layer (imports only `errors`): the store compares users (the two-person rule, distinct
approvers) and checks roles in the same transaction as a change, so these rules sit below
it. `ops._roles` adds what each role may do.

A user name is canonical when it is NFKC-normalised, case-folded and made only of
`a-z 0-9 . _ @ -`, starting with a letter or digit, at most 128 characters. Canonical
names make `U_data-scientist`, `u_data-scientist ` and a U+2010 look-alike either the same
person or refused, never a second approver.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from loopline.errors import InvalidInputError

ROLES = ("viewer", "data-scientist", "ml-engineer", "approver", "ci", "admin")
# The pseudo-role of embedded mode (no server, no token): the owner of the local store
# file. No token can carry it (`check_role` refuses it).
OWNER = "owner"
# Evaluations recorded by these count as evidence for a protected alias: a CI service
# identity that people do not hold, the embedded owner (whose file is the boundary), and
# admin (who can mint a ci token anyway, so trusting it grants nothing new).
TRUSTED_EVALUATOR_ROLES = frozenset({"ci", "admin", OWNER})
# Who may register the gate policy of a protected alias (checked by the store when a
# decision carries a new policy; `ops._roles.PERMISSIONS["policy.write"]` agrees, tested).
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


__all__ = [
    "OWNER",
    "POLICY_WRITERS",
    "ROLES",
    "TRUSTED_EVALUATOR_ROLES",
    "Principal",
    "acting_as",
    "canonical_user",
    "check_role",
    "current_principal",
    "same_user",
]
