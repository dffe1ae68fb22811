"""User names are canonical and roles known on every token path, so a look-alike name is
either the same person or refused — never a second approver."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loopline.errors import ConflictError, InvalidInputError
from loopline.identity import canonical_user, same_user
from loopline.ops._tokens import token_hash
from loopline.store import ModelVersion
from tests.security.conftest import Become, dump


def _mint(store: object, user: str, role: str = "approver") -> object:
    return store.create_token(  # type: ignore[attr-defined]
        token_hash=token_hash(f"secret-{user!r}-{role}"),
        prefix="ll_x",
        user=user,
        role=role,
        team=None,
        expires_at=None,
        created_by="root",
    )


@pytest.mark.parametrize(
    "user",
    ["u_data-scientist ", "u_data\u2010scientist", "", " ", "a\u0000b", "x" * 200],
)
def test_look_alike_and_malformed_users_are_refused_on_post_tokens(
    become: Become, user: str
) -> None:
    """Finding: admin POST /tokens accepts `"u_data-scientist "`, a U+2010 hyphen look-alike
    and an empty user."""
    admin = become("root", "admin")
    before = dump()
    with pytest.raises(InvalidInputError, match="user name"):
        _mint(admin, user)
    assert dump() == before


def test_unknown_role_is_refused_on_post_tokens(become: Become) -> None:
    """Finding: admin POST /tokens accepts role `superuser`."""
    admin = become("root", "admin")
    before = dump()
    with pytest.raises(InvalidInputError, match="unknown role 'superuser'"):
        _mint(admin, "eve", "superuser")
    assert dump() == before


def test_upper_case_look_alike_is_the_same_person_and_cannot_approve(
    become: Become, register: Callable[..., ModelVersion]
) -> None:
    """Finding: a token for `U_data-scientist` approved a version `u_data-scientist`
    registered."""
    admin = become("root", "admin")
    token = _mint(admin, "U_data-scientist")
    assert token.user == "u_data-scientist"  # type: ignore[attr-defined]
    v = register(become("u_data-scientist", "data-scientist"), "loan")
    twin = become("U_Data-Scientist", "approver")  # a principal whose name folds to the author
    with pytest.raises(ConflictError, match="cannot approve"):
        twin.add_approval("loan", v.version, approver="x", role="x", comment=None)


@given(st.text(max_size=40))
def test_canonical_names_are_fixed_points_and_fold_look_alikes(name: str) -> None:
    """Property: canonical_user is idempotent, and anything it accepts is the same user as
    its input."""
    try:
        canon = canonical_user(name)
    except InvalidInputError:
        return
    assert canonical_user(canon) == canon
    assert same_user(name, canon)
    assert canon.isascii() and canon == canon.lower() and canon.strip() == canon


def test_the_store_and_the_role_table_agree_on_who_writes_policies() -> None:
    """The store checks policy registration itself (in the decision's transaction)."""
    from loopline.identity import OWNER, POLICY_WRITERS
    from loopline.ops._roles import roles_allowed

    assert {*roles_allowed("policy.write"), OWNER} == POLICY_WRITERS
