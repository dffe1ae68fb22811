"""The metadata store's own names follow docs/vocabulary.md (§6, §8, §10, §13, issue 19).

`get_model(model)` and `list_models()` (were `get_registered_model(name)` and
`list_registered_models()`), `rollback_alias(…, version=)` (was `to_version=`),
`list_runs(…, sort=)` (was `order_by=`), and the running runs as `list_runs(status="running")`
(`list_running()` is gone). `loopline.store` is public, so last release's names still answer
for one release, with a LooplineDeprecationWarning naming the new one.

Here, not in tests/store, so that the remote pass (LL_TEST_REMOTE=1, `make pytest-remote`)
runs every call through the team server too: there `open_metadata_store()` is the client.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

import loopline as ll
from loopline._renamed import LooplineDeprecationWarning
from loopline.errors import InvalidInputError
from loopline.store import MAX_RUNS_PAGE, ModelVersion, open_metadata_store

Train = Callable[..., ModelVersion]


def warns(said: str) -> pytest.WarningsChecker:
    return pytest.warns(LooplineDeprecationWarning, match=re.escape(said))


def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call with last release's names (the signature mypy sees has only the new ones)."""
    return fn(*args, **kwargs)


def test_get_model_and_list_models_and_their_old_names(train_version: Train) -> None:
    train_version()
    train_version(name="fraud")
    store = open_metadata_store()
    churn = store.get_model(model="churn")
    assert (churn.name, churn.latest_version) == ("churn", 1)
    assert [m.name for m in store.list_models()] == ["churn", "fraud"]
    with warns("get_registered_model() is deprecated and goes in the next release; call get_model"):
        assert call(store.get_registered_model, "churn") == churn
    with warns("list_registered_models() is deprecated") as caught:
        assert call(store.list_registered_models) == store.list_models()
    assert caught[0].filename == __file__  # the warning points at the caller's line


def test_rollback_alias_takes_version_and_last_releases_to_version(train_version: Train) -> None:
    for _ in range(3):
        assert ll.promote("churn", train_version().version, "staging").promoted
    store = open_metadata_store()
    move = store.rollback_alias("churn", "staging", actor="x", version=1, reason="r")
    assert (move.from_version, move.to_version) == (3, 1)
    with warns("rollback_alias(to_version=...) is deprecated and goes in the next release"):
        move = call(store.rollback_alias, "churn", "staging", actor="x", to_version=3, reason=None)
    assert (move.from_version, move.to_version) == (1, 3)
    with pytest.raises(InvalidInputError, match="got version=1 and to_version=2"):
        call(store.rollback_alias, "churn", "staging", actor="x", version=1, to_version=2)
    assert store.get_model("churn").aliases == {"staging": 3}  # the refusal moved nothing


def test_list_runs_sorts_with_sort_and_last_releases_order_by() -> None:
    for auc in (0.3, 0.9, 0.6):
        with ll.start_run(experiment="e") as run:
            run.log_metrics({"auc": auc})
    store = open_metadata_store()
    best = [r.metrics["auc"] for r in store.list_runs("e", sort="metric.auc desc")]
    assert best == [0.9, 0.6, 0.3]
    with warns("list_runs(order_by=...) is deprecated and goes in the next release; pass sort="):
        old = call(store.list_runs, "e", order_by="metric.auc desc")
    assert [r.metrics["auc"] for r in old] == best
    with pytest.raises(InvalidInputError, match="got sort='name' and order_by='status'"):
        call(store.list_runs, sort="name", order_by="status")


def test_the_running_runs_are_a_status_filter_bounded_by_a_page() -> None:
    store = open_metadata_store()
    with ll.start_run(experiment="e"):
        pass
    live = ll.start_run(experiment="e")
    try:
        running = store.list_runs(status="running", limit=MAX_RUNS_PAGE)
        assert [r.id for r in running] == [live.id]
        with pytest.raises(InvalidInputError, match="out of range"):
            store.list_runs(status="running", limit=MAX_RUNS_PAGE + 1)
    finally:
        live.end()
    assert store.list_runs(status="running") == []
    assert not hasattr(store, "list_running")
