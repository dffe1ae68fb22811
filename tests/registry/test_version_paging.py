"""`list_versions` pages (issue 18): newest first, a default page, a version cursor for
older ones, `limit=None` for every version; the same through the team server, whose route
never returns more than a page (the client fetches every page for `limit=None`)."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from loopline.errors import InvalidInputError
from loopline.registry import list_versions as registry_list_versions
from loopline.store import (
    Lineage,
    MetadataStore,
    ModelVersion,
    SqlMetadataStore,
    open_artifact_store,
    open_metadata_store,
    operations,
)
from loopline.store.interfaces import MAX_VERSIONS_PAGE, VERSIONS_PAGE
from loopline.store.remote import HttpMetadataStore
from loopline.store.sql import _schema as t
from tests._backends import metadata_url
from tests._team_server import TeamServer, start_team_server

MANIFEST = {"format": "loopline-model/1", "serialization": "skops", "trusted_types": []}


def register(store: MetadataStore, n: int, name: str = "churn") -> None:
    """`n` more versions of `name`, each naming one stored (tiny, fake) model package."""
    sha, _ = open_artifact_store().put_bytes(json.dumps(MANIFEST).encode())
    run = store.create_run("e", None, {}, {}, Lineage())
    for _ in range(n):
        store.create_version(
            name,
            run_id=run.id,
            artifact_path="model",
            sha256=sha,
            flavor="sklearn",
            signature=None,
            metrics={"auc": 0.5},
            git_commit=None,
            created_by="alice",
            card={},
        )


def numbers(versions: list[ModelVersion]) -> list[int]:
    return [v.version for v in versions]


def test_pages_are_newest_first_with_a_version_cursor() -> None:
    store = open_metadata_store()
    register(store, VERSIONS_PAGE + 5)
    top = VERSIONS_PAGE + 5
    assert numbers(store.list_versions("churn")) == list(range(top, 5, -1))  # default page
    first = store.list_versions("churn", limit=3)
    assert numbers(first) == [top, top - 1, top - 2]
    second = store.list_versions("churn", limit=3, before=first[-1].version)
    assert numbers(second) == [top - 3, top - 4, top - 5]
    assert numbers(store.list_versions("churn", limit=3, before=3)) == [2, 1]
    assert store.list_versions("churn", before=1) == []
    assert numbers(store.list_versions("churn", limit=None)) == list(range(top, 0, -1))
    assert numbers(registry_list_versions("churn", limit=2)) == [top, top - 1]

    # A cursor, not an offset: versions registered meanwhile neither shift nor repeat a page.
    register(store, 4)
    assert numbers(store.list_versions("churn", limit=3, before=first[-1].version)) == numbers(
        second
    )


def test_a_page_carries_its_aliases_and_gates() -> None:
    store = open_metadata_store()
    register(store, 6)
    store.move_alias("churn", "staging", 2, actor="alice", action="promote")
    page = store.list_versions("churn", limit=2, before=3)
    assert [(v.version, v.aliases) for v in page] == [(2, ("staging",)), (1, ())]
    assert all(v.gate is None for v in page)


@pytest.mark.parametrize("limit", [0, -1, MAX_VERSIONS_PAGE + 1, 2.5])
def test_a_bad_limit_is_refused(limit: object) -> None:
    store = open_metadata_store()
    register(store, 1)
    with pytest.raises(InvalidInputError, match="limit"):
        store.list_versions("churn", limit=limit)  # type: ignore[arg-type]


def test_a_bad_cursor_is_refused() -> None:
    store = open_metadata_store()
    register(store, 1)
    with pytest.raises(InvalidInputError, match="before"):
        store.list_versions("churn", before=0)


def test_the_registry_default_page_is_the_stores() -> None:
    import inspect

    from loopline.registry import list_versions

    assert inspect.signature(list_versions).parameters["limit"].default == VERSIONS_PAGE


@pytest.fixture
def sql_store(tmp_path: Path) -> Iterator[SqlMetadataStore]:
    opened = SqlMetadataStore(metadata_url(tmp_path))
    yield opened
    opened.close()


def test_every_version_crosses_the_page_size_in_one_snapshot(sql_store: SqlMetadataStore) -> None:
    """limit=None reads pages of MAX_VERSIONS_PAGE (the alias and gate lookups bind one
    page of ids at a time): 2,500 versions, filled straight into the schema."""
    register(sql_store, 1)
    n = 2 * MAX_VERSIONS_PAGE + 500
    with sql_store._write_engine.begin() as conn:
        mid = conn.execute(sa.select(t.registered_models.c.id)).scalar_one()
        one = conn.execute(sa.select(t.model_versions)).mappings().one()
        rows = [{**one, "version": v} for v in range(2, n + 1)]
        for row in rows:
            del row["id"]
        conn.execute(sa.insert(t.model_versions), rows)
        last = conn.execute(
            sa.select(t.model_versions.c.id).where(t.model_versions.c.version == n)
        ).scalar_one()
        conn.execute(
            sa.insert(t.model_aliases).values(
                model_id=mid,
                alias="production",
                version_id=last,
                moved_at=time.time(),
                moved_by="alice",
            )
        )
    every = sql_store.list_versions("churn", limit=None)
    assert numbers(every) == list(range(n, 0, -1))
    assert every[0].aliases == ("production",)


# Through a live team server ----------------------------------------------------------------


@pytest.fixture
def team(home: Path) -> Iterator[TeamServer]:
    from tests import conftest

    if conftest.REMOTE:  # the suite already runs through this test's team server
        yield conftest._SERVERS[-1]
        return
    server = start_team_server()
    yield server
    server.stop()


@pytest.mark.parametrize("limit", ["0", "-1", str(MAX_VERSIONS_PAGE + 1), "ten", "2.5"])
def test_the_route_refuses_a_bad_limit_in_one_line(team: TeamServer, limit: str) -> None:
    register(team.store, 2)
    with team.client("alice", "viewer") as http:
        r = http.get("/api/v1/models/churn/versions", params={"limit": limit})
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "invalid_input" and "limit" in error["message"]
    assert len(error["message"].splitlines()) == 1


def test_the_route_serves_a_page_and_the_client_pages_through_every_version(
    team: TeamServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(team.store, 7)
    with team.client("alice", "viewer") as http:
        r = http.get("/api/v1/models/churn/versions", params={"limit": 2, "before": 6})
        assert [v["version"] for v in r.json()] == [5, 4]
        default = http.get("/api/v1/models/churn/versions").json()
    assert [v["version"] for v in default] == list(range(7, 0, -1))

    # Pages of 3 instead of 1,000, so that seven versions take three requests.
    op = operations.BY_METHOD["list_versions"]
    assert op.paging is not None
    small = dataclasses.replace(op, paging=dataclasses.replace(op.paging, most=3))
    monkeypatch.setitem(operations.BY_METHOD, "list_versions", small)
    remote = HttpMetadataStore(team.url, team.token("alice", "viewer"))
    asked: list[httpx.Request] = []
    monkeypatch.setattr(remote._client.http, "event_hooks", {"request": [asked.append]})
    assert numbers(remote.list_versions("churn", limit=None)) == list(range(7, 0, -1))
    assert [dict(r.url.params) for r in asked] == [
        {"limit": "3"},
        {"limit": "3", "before": "5"},
        {"limit": "3", "before": "2"},
    ]


def test_a_page_costs_the_same_statements_at_any_history(sql_store: SqlMetadataStore) -> None:
    """`models show`'s call: no query per version (issue 18 counted 1,000 gate lookups)."""
    seen: list[str] = []

    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement)

    register(sql_store, VERSIONS_PAGE + 1)

    def statements(total: int) -> int:
        register(sql_store, total - len(sql_store.list_versions("churn", limit=None)))
        seen.clear()
        sa.event.listen(sql_store._engine, "before_cursor_execute", note)
        try:
            assert len(sql_store.list_versions("churn")) == VERSIONS_PAGE
        finally:
            sa.event.remove(sql_store._engine, "before_cursor_execute", note)
        return len([q for q in seen if q != "BEGIN"])

    # the model, the page, its aliases, its latest gate decisions
    assert statements(VERSIONS_PAGE + 1) == statements(4 * VERSIONS_PAGE) == 4
