"""The governed and remote stores agree with the interface and the operations table.

Both are real `MetadataStore` subclasses whose operations are one line each
(`name = _governed(MetadataStore.name)`), so mypy checks every call against the interface.
These tests fail when a line is missing or wraps another method, when an operation is in
the table without its line, and when a line forwards an argument wrongly: each operation
is called with a distinct value per argument and must reach the inner store (or the wire)
with those values, the caller's name and role filled in where the table says."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from loopline._renamed import LooplineDeprecationWarning
from loopline.identity import OWNER, Principal, acting_as
from loopline.store import Lineage, MetadataStore, SqlMetadataStore
from loopline.store.governed import GovernedStore
from loopline.store.operations import (
    BY_METHOD,
    IDENTITY_ARGS,
    LOCAL_ONLY,
    OPERATIONS,
    PROVENANCE_ARGS,
    RENAMED_ARGS,
    ROLE_ARGS,
    Operation,
    signature,
)
from loopline.store.remote import HttpMetadataStore

OPERATIONS_AND_LOCAL = {op.method for op in OPERATIONS} | LOCAL_ONLY


def problems(cls: type) -> list[str]:
    """Every operation `cls` does not define itself, or defines as another method."""
    out = []
    for name in sorted(OPERATIONS_AND_LOCAL):
        method = vars(cls).get(name)
        if method is None:
            out.append(f"{cls.__name__}.{name} is missing (inherited from the interface)")
        elif method.__name__ != name:
            out.append(f"{cls.__name__}.{name} calls {method.__name__}")
    return out


@pytest.mark.parametrize("cls", [GovernedStore, HttpMetadataStore])
def test_every_operation_is_a_line_of_the_class(cls: type) -> None:
    assert set(MetadataStore.__abstractmethods__) == OPERATIONS_AND_LOCAL
    assert problems(cls) == []
    assert not getattr(cls, "__abstractmethods__", None)


def test_the_check_catches_a_missing_or_crossed_line() -> None:
    body = {k: v for k, v in vars(GovernedStore).items() if k != "heartbeat"}
    broken = type("Broken", (MetadataStore,), body | {"get_run": body["list_runs"]})
    assert problems(broken) == [
        "Broken.get_run calls list_runs",
        "Broken.heartbeat is missing (inherited from the interface)",
    ]
    assert broken.__abstractmethods__ == frozenset({"heartbeat"})


class Recorder:
    """An inner store that records each call: (method, arguments by name)."""

    url = "memory://"

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        def record(*args: Any, **kwargs: Any) -> None:
            bound = signature(name).bind(*args, **kwargs)
            self.calls.append((name, dict(bound.arguments)))

        return record


def distinct_values(op: Operation) -> dict[str, str]:
    return {name: f"<{name}>" for name in signature(op.method).parameters}


@pytest.mark.parametrize("caller", [Principal("alice", "admin"), None], ids=["server", "owner"])
def test_the_governed_store_forwards_every_argument_and_fills_the_caller(
    caller: Principal | None,
) -> None:
    inner = Recorder()
    store = GovernedStore(cast(MetadataStore, inner))
    with acting_as(caller):
        for op in OPERATIONS:
            given = distinct_values(op)
            getattr(store, op.method)(**given)
            if caller is not None:
                filled = {a: caller.name for a in IDENTITY_ARGS if a in given}
                filled |= {a: caller.role for m, a in ROLE_ARGS if m == op.method}
            else:
                filled = {a: OWNER for m, a in PROVENANCE_ARGS if m == op.method}
            assert inner.calls.pop() == (op.method, given | filled)


def test_the_remote_store_sends_every_operation_with_its_arguments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[tuple[Operation, dict[str, Any]]] = []

    def request(self: HttpMetadataStore, op: Operation, values: dict[str, Any]) -> None:
        sent.append((op, values))

    monkeypatch.setattr(HttpMetadataStore, "_request", request)
    store = HttpMetadataStore("http://127.0.0.1:9", "")  # nothing listens: nothing is sent
    for op in OPERATIONS:
        given = distinct_values(op)
        getattr(store, op.method)(**given)
        assert sent.pop() == (op, given)


def test_every_store_takes_last_releases_argument_names(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Each RENAMED_ARGS name reaches the store under its new name, with the warning, through
    the governed store, the remote client and the SQL store alike."""
    assert RENAMED_ARGS == {
        "list_runs": {"order_by": "sort"},
        "rollback_alias": {"to_version": "version"},
    }
    inner = Recorder()
    governed = GovernedStore(cast(MetadataStore, inner))
    sent: list[tuple[Operation, dict[str, Any]]] = []
    monkeypatch.setattr(HttpMetadataStore, "_request", lambda _, op, v: sent.append((op, v)))
    remote = HttpMetadataStore("http://127.0.0.1:9", "")
    for method, renames in RENAMED_ARGS.items():
        op = BY_METHOD[method]
        given = distinct_values(op)
        old_call = {k: v for k, v in given.items() if k not in renames.values()}
        old_call |= {old: given[new] for old, new in renames.items()}
        for store in (governed, remote):
            with pytest.warns(LooplineDeprecationWarning, match=f"{method}\\("):
                getattr(store, method)(**old_call)
        assert inner.calls.pop() == (method, given)
        assert sent.pop() == (op, given)
    sql = SqlMetadataStore(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        sql.create_run("e", "b", {}, {}, Lineage())
        sql.create_run("e", "a", {}, {}, Lineage())
        with pytest.warns(LooplineDeprecationWarning, match="pass sort="):
            by_name = sql.list_runs(order_by="name asc")  # type: ignore[call-arg]
        assert [r.name for r in by_name] == ["a", "b"]
    finally:
        sql.close()
