"""The operation table (`store/operations.py`) agrees with the `MetadataStore` it serves.

These checks ran at import time in every process (~10 ms of each CLI command); here they
fail the build instead: a new store method without a route never reaches production."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Iterable, Mapping

from loopline.store import MetadataStore
from loopline.store.operations import (
    BY_METHOD,
    LOCAL_ONLY,
    OPERATIONS,
    Operation,
    Paging,
    signature,
)


def problems(operations: Iterable[Operation], by_method: Mapping[str, Operation]) -> list[str]:
    """Every disagreement between the table and the store, one line each."""
    out = []
    # Every abstract method is either served or explicitly local.
    missing = set(MetadataStore.__abstractmethods__) - set(by_method) - LOCAL_ONLY
    if missing:
        out.append(f"store methods without an operation: {sorted(missing)}")
    for op in operations:
        params = signature(op.method).parameters.values()
        if op.paging is not None and {"limit", op.paging.cursor} - {p.name for p in params}:
            out.append(f"{op.method}: paged, but has no limit or {op.paging.cursor}")
        if op.verb == "GET":
            # None-with-another-default crosses the wire as "" (store._http): strings only.
            # A paged listing's limit=None stays on the client (it fetches every page).
            odd = [
                p.name
                for p in params
                if p.default not in (None, inspect.Parameter.empty)
                and not (op.paging is not None and p.name == "limit")
                and type(None) in typing.get_args(p.annotation)
                and set(typing.get_args(p.annotation)) != {str, type(None)}
            ]
            if odd:
                out.append(f"{op.method}: optional non-str {odd} with a non-None default")
        unknown = set(op.path_params) - set(signature(op.method).parameters)
        if unknown:
            out.append(f"{op.path} names {sorted(unknown)}, not arguments of {op.method}")
    return out


def test_every_store_method_has_a_consistent_operation() -> None:
    assert problems(OPERATIONS, BY_METHOD) == []


def test_each_check_catches_its_mistake() -> None:
    """The checks are not vacuous: each broken table below is refused, with its reason."""
    by_method = dict(BY_METHOD)
    del by_method["get_run"]
    assert problems([], by_method) == ["store methods without an operation: ['get_run']"]

    paged = BY_METHOD["list_versions"]
    wrong_cursor = Operation(paged.method, "GET", paged.path, "read", "models", Paging(5, "after"))
    unpaged = Operation(paged.method, "GET", paged.path, "read", "models")
    bad_path = Operation("get_run", "GET", "/runs/{run}", "read", "runs")
    assert problems([wrong_cursor, unpaged, bad_path], BY_METHOD) == [
        "list_versions: paged, but has no limit or after",
        "list_versions: optional non-str ['limit'] with a non-None default",
        "/runs/{run} names ['run'], not arguments of get_run",
    ]
