"""The /data page reads one page of dataset versions (and one more, to know an older page
exists), not every version before paging; older pages follow a `before` id cursor."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from loopline.config import load_settings
from loopline.server.ui._views import data_page
from loopline.server.ui._views._data import VERSIONS_PER_PAGE
from loopline.store import Lineage, MetadataStore, SqlMetadataStore
from tests.conftest import REMOTE

pytestmark = pytest.mark.skipif(REMOTE, reason="reads the embedded store's SQL")
N = 60


@pytest.fixture
def store(home: Path) -> Iterator[SqlMetadataStore]:
    """60 dataset versions: 40 of `orders`, 20 of `users`, interleaved."""
    store = SqlMetadataStore(load_settings().db_url)
    run = store.create_run("e", None, {}, {}, Lineage())
    for i in range(N):
        name = "users" if i % 3 == 2 else "orders"
        record = {
            "fingerprint": f"{i:064x}", "name": name, "n_rows": i, "n_columns": 1,
            "schema": {}, "profile": {}, "source": None, "artifact_sha256": None,
        }  # fmt: skip
        store.record_dataset_use(run.id, record, f"d{i}", "training")
    yield store
    store.close()


class Counting:
    """A store that counts the dataset records its listings return."""

    def __init__(self, store: MetadataStore) -> None:
        self.store, self.listed = store, 0

    def list_datasets(self, *args: Any, **kwargs: Any) -> Any:
        found = self.store.list_datasets(*args, **kwargs)
        self.listed += len(found)
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def test_a_page_of_25_reads_at_most_26_versions(store: SqlMetadataStore) -> None:
    assert VERSIONS_PER_PAGE == 25
    spy = Counting(store)
    ctx = data_page(spy, None, None, None)  # type: ignore[arg-type]
    assert spy.listed == VERSIONS_PER_PAGE + 1
    newest = store.list_datasets(limit=N)
    assert [r["ds"].id for r in ctx["rows"]] == [d.id for d in newest[:25]]
    assert ctx["older"] == newest[24].id
    last = data_page(spy, None, None, newest[49].id)  # type: ignore[arg-type]
    assert [r["ds"].id for r in last["rows"]] == [d.id for d in newest[50:]]
    assert last["older"] is None and spy.listed == 26 + 10


def test_one_bounded_statement_reads_the_page(store: SqlMetadataStore) -> None:
    statements: list[tuple[str, Any]] = []

    def spy(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "FROM datasets" in statement:
            statements.append((statement, params))

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", spy)
    try:
        data_page(store, None, "orders", None)
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", spy)
    assert len(statements) == 1, statements
    sql, params = statements[0]
    assert "LIMIT" in sql and VERSIONS_PER_PAGE + 1 in tuple(params), (sql, params)


def test_the_store_pages_by_id_and_checks_its_bounds(store: SqlMetadataStore) -> None:
    orders = store.list_datasets("orders", limit=None)
    assert len(orders) == 40 and len(store.list_datasets()) == 50  # the default page
    page = store.list_datasets("orders", limit=15, before=orders[9].id)
    assert page == orders[10:25]
    with pytest.raises(Exception, match="limit 0 is not between 1 and 1,000"):
        store.list_datasets(limit=0)
    with pytest.raises(Exception, match="not a dataset version id"):
        store.list_datasets(before=0)


def test_the_page_links_the_older_page_and_back(
    store: SqlMetadataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from loopline.server.ui import create_ui_app

    monkeypatch.setenv("LOOPLINE_USER", "owner")
    client = TestClient(create_ui_app(load_settings()), follow_redirects=False)
    first = client.get("/data?name=orders")
    assert first.status_code == 200, first.text
    assert first.text.count("<tr data-fingerprint=") == 25
    orders = store.list_datasets("orders", limit=None)
    link = re.search(r'<a href="([^"]+)" rel="next">Older →</a>', first.text)
    assert link is not None and link[1] == f"?name=orders&amp;before={orders[24].id}", link
    assert 'rel="first"' not in first.text
    second = client.get("/data" + link[1].replace("&amp;", "&"))
    assert second.text.count("<tr data-fingerprint=") == 15
    assert f'data-fingerprint="{orders[25].fingerprint}"' in second.text
    assert 'rel="next"' not in second.text and '<a href="?name=orders" rel="first">' in second.text
