"""Acting as a role, registering versions cheaply, and dumping the store to prove a refused
call changed nothing. Store-level tests run embedded (roles through `acting_as`, the same
governed store the server uses), on PostgreSQL (LL_TEST_PG_URL) and through a live team
server (LL_TEST_REMOTE=1, roles through tokens)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from sklearn.linear_model import LogisticRegression

import loopline as ll
from loopline.config import load_settings
from loopline.identity import _CURRENT, Principal
from loopline.store import MetadataStore, ModelVersion, open_metadata_store, reset_store_cache
from loopline.store.sql._schema import metadata
from tests import conftest as root

Become = Callable[[str, str], MetadataStore]


@pytest.fixture
def become(monkeypatch: pytest.MonkeyPatch) -> Iterator[Become]:
    """`become(user, role)` makes later store calls act as that person; returns the store."""
    tokens: list[Any] = []

    def switch(user: str, role: str) -> MetadataStore:
        if root.REMOTE:
            from loopline.store.remote import _whoami

            monkeypatch.setenv("LOOPLINE_TOKEN", root._SERVERS[-1].token(user, role))
            _whoami.cache_clear()
            reset_store_cache()
        else:
            tokens.append(_CURRENT.set(Principal(user, role)))
        return open_metadata_store()

    yield switch
    for token in reversed(tokens):
        _CURRENT.reset(token)


@pytest.fixture
def package_sha() -> str:
    """The sha256 of one real, logged model package (versions may share it)."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    y = (X["a"] > 0).astype("int64")
    with ll.start_run(experiment="security") as run:
        info = run.log_model(LogisticRegression().fit(X, y))
    return str(ll.register_model(info, "seed").sha256)


@pytest.fixture
def register(package_sha: str) -> Callable[..., ModelVersion]:
    """register(store, model, card=...) → a new version of `model` on the seed's package."""

    def make(store: MetadataStore, model: str = "loan", **card: Any) -> ModelVersion:
        seed = store.get_version("seed", 1)
        return store.create_version(
            model,
            run_id=seed.run_id,
            artifact_path="model",
            sha256=package_sha,
            flavor="sklearn",
            signature=None,
            metrics={"auc": 0.99},  # what the author claims: never evidence for production
            git_commit=None,
            created_by="ignored-the-store-uses-the-caller",
            card=dict(card),
        )

    return make


def dump() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, straight from the database (whatever mode the test runs)."""
    engine = sa.create_engine(load_settings().db_url)
    try:
        with engine.connect() as conn:
            return {
                name: sorted(map(tuple, conn.execute(sa.select(table)).all()), key=repr)
                for name, table in metadata.tables.items()
                if name not in {"api_tokens"}  # tokens are minted lazily by the test server
            }
    finally:
        engine.dispose()


@pytest.fixture
def team(home: Any) -> Iterator[Any]:
    """A live team server over the test's own store."""
    from tests._team_server import start_team_server

    server = start_team_server()
    yield server
    server.stop()
