"""One vocabulary in Python (docs/vocabulary.md §6-8): `model`, `version`, `alias`.

Last release's keywords (`name=`, `to=`, `to_version=`) still work for one release: the call
does exactly what the new keyword does, with a LooplineDeprecationWarning naming the new one.
Old and new with different values is refused and changes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

import loopline as ll
from loopline._renamed import LooplineDeprecationWarning
from loopline.errors import InvalidInputError
from loopline.gates import gate
from loopline.registry import get_version, list_versions
from loopline.store import ModelVersion, open_metadata_store

Train = Callable[..., ModelVersion]


def deprecated(function: str, old: str, new: str) -> pytest.WarningsChecker:
    return pytest.warns(
        LooplineDeprecationWarning,
        match=re.escape(f"{function}({old}=...) is deprecated") + ".*" + re.escape(f"{new}=..."),
    )


def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call with last release's keywords (the signature mypy sees has only the new ones)."""
    return fn(*args, **kwargs)


def test_promote_gate_and_rollback_take_model_version_alias(train_version: Train) -> None:
    v1, v2 = train_version(), train_version()
    assert ll.promote(model="churn", version=v1.version, alias="staging").promoted
    assert gate("churn", v2.version, alias="staging").decision.passed
    assert ll.promote("churn", v2.version, "staging").promoted
    move, _ = ll.rollback(model="churn", alias="staging", version=v1.version)
    assert (move.from_version, move.to_version) == (2, 1)
    assert [v.version for v in list_versions(model="churn")] == [2, 1]


def test_last_releases_keywords_still_promote_and_roll_back(train_version: Train) -> None:
    v1, v2 = train_version(), train_version()
    with deprecated("promote", "to", "alias"):
        result = call(ll.promote, "churn", v1.version, to="staging")
    assert result.promoted and result.alias == "staging"
    assert get_version("models:/churn@staging").version == v1.version
    with deprecated("promote", "name", "model"):
        assert call(ll.promote, name="churn", version=v2.version, alias="staging").promoted
    with deprecated("gate", "to", "alias"):
        decision = call(gate, "churn", v1.version, to="production")
    assert decision.alias == "production" and decision.move is None
    with deprecated("rollback", "to_version", "version"):
        move, _ = call(ll.rollback, "churn", "staging", to_version=v1.version)
    assert (move.from_version, move.to_version, move.action) == (2, 1, "rollback")
    with deprecated("rollback", "name", "model"):
        move, _ = call(ll.rollback, name="churn", alias="staging", version=v2.version)
    assert move.to_version == 2


def test_old_and_new_keywords_that_disagree_are_refused_and_change_nothing(
    train_version: Train,
) -> None:
    v1 = train_version()
    with pytest.raises(InvalidInputError, match="got alias='staging' and to='production'"):
        call(ll.promote, "churn", v1.version, alias="staging", to="production")
    with pytest.raises(InvalidInputError, match="got alias='production' and to='staging'"):
        call(gate, "churn", v1.version, "production", to="staging")
    with pytest.raises(InvalidInputError, match="got version=1 and to_version=2"):
        call(ll.rollback, "churn", "staging", version=1, to_version=2)
    store = open_metadata_store()
    assert store.list_gate_decisions("churn", v1.version) == []
    assert store.alias_history("churn") == []


def test_register_and_approve_name_the_model_model(
    train_version: Train, switch_user: Callable[..., None]
) -> None:
    v1 = train_version()
    info = f"runs:/{v1.run_id}/model"
    with deprecated("register_model", "name", "model"):
        v2 = call(ll.register_model, info, name="churn")
    assert (v2.model, v2.version, v2.sha256) == ("churn", 2, v1.sha256)
    assert ll.register_model(info, model="other").model == "other"
    switch_user("bob", "approver")
    ll.approve(model="churn", version=v1.version)
    with deprecated("approve", "name", "model"):
        call(ll.approve, name="churn", version=v2.version, comment="same bytes")
    store = open_metadata_store()
    assert [a.approver for a in store.list_approvals("churn", 1)] == ["bob"]
    assert [a.comment for a in store.list_approvals("churn", 2)] == ["same bytes"]
