"""The REST routes of the metadata store, built from `store.operations.OPERATIONS`.

Each route's query parameters, JSON body and response schema come from the store
method's type hints, so the OpenAPI document is exact and the remote client (which
reads the same table) cannot disagree with the server. Arguments that name the caller
are not part of any body: the server fills them from the API token.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import ConfigDict, Field, create_model

from loopline.errors import AuthenticationError
from loopline.identity import current_principal
from loopline.store import MetadataStore
from loopline.store.operations import OPERATIONS, Operation, server_filled, signature

_EMPTY = inspect.Parameter.empty
_KW = inspect.Parameter.KEYWORD_ONLY


def _server_filled(op: Operation, name: str) -> bool:
    return server_filled(op.method, name)


def _nullable_str(annotation: Any) -> bool:
    return set(typing.get_args(annotation)) == {str, type(None)}


# Bounds of the paging arguments, by name, on every route that has them (query or body): a
# negative limit means "no limit" to SQLite, and 10**12 rows is no page. New store methods
# get them by naming their arguments the usual way.
MAX_PAGE = 100_000
BOUNDS: dict[str, dict[str, int]] = {
    "limit": {"ge": 0, "le": MAX_PAGE},
    "offset": {"ge": 0, "le": 2**31 - 1},
    "after_id": {"ge": 0, "le": 2**63 - 1},
    "before_id": {"ge": 0, "le": 2**63 - 1},
    "before": {"ge": 1, "le": 2**63 - 1},  # a paged listing's cursor (see Paging)
}


def _is_int(annotation: Any) -> bool:
    return annotation is int or set(typing.get_args(annotation)) == {int, type(None)}


def _bounds(name: str, annotation: Any) -> tuple[int | None, int | None]:
    """(ge, le) of an int argument named like a paging argument, else (None, None)."""
    bounds = BOUNDS.get(name, {}) if _is_int(annotation) else {}
    return bounds.get("ge"), bounds.get("le")


def _endpoint(op: Operation, store: Callable[[], MetadataStore]) -> Callable[..., Any]:
    sig = signature(op.method)
    params: list[inspect.Parameter] = []
    body_fields: dict[str, Any] = {}
    filled = [n for n in sig.parameters if _server_filled(op, n)]
    nullable_query = [
        p.name
        for p in sig.parameters.values()
        if op.verb == "GET" and p.default not in (None, _EMPTY) and _nullable_str(p.annotation)
    ]
    for p in sig.parameters.values():
        if _server_filled(op, p.name):
            continue
        if p.name in op.path_params:
            params.append(
                inspect.Parameter(p.name, _KW, annotation=Annotated[p.annotation, Path()])
            )
        elif op.verb == "GET" and op.paging is not None and p.name == "limit":
            # A page, never everything: the client turns limit=None into pages of `most`.
            query = Query(ge=1, le=op.paging.most)
            params.append(
                inspect.Parameter(p.name, _KW, annotation=Annotated[int, query], default=p.default)
            )
        elif op.verb == "GET":
            default = None if p.default is _EMPTY else p.default
            ge, le = _bounds(p.name, p.annotation)
            query = Query(ge=ge, le=le)
            params.append(
                inspect.Parameter(
                    p.name, _KW, annotation=Annotated[p.annotation, query], default=default
                )
            )
        else:
            ge, le = _bounds(p.name, p.annotation)
            default = ... if p.default is _EMPTY else p.default
            body_fields[p.name] = (p.annotation, Field(default, ge=ge, le=le))
    if body_fields:
        model = create_model(
            "".join(w.title() for w in op.method.split("_")) + "Body",
            __config__=ConfigDict(extra="ignore"),
            **body_fields,
        )
        params.append(inspect.Parameter("body", _KW, annotation=model))

    def endpoint(**kwargs: Any) -> Any:
        for name in nullable_query:
            if kwargs.get(name) == "":
                kwargs[name] = None  # the client's way of saying None (see store.remote)
        body = kwargs.pop("body", None)
        if body is not None:
            kwargs.update({name: getattr(body, name) for name in body_fields})
        principal = current_principal()
        if filled and principal is None:  # AuthMiddleware guarantees one; be explicit
            raise AuthenticationError("no API token", hint="send 'Authorization: Bearer <token>'")
        for name in filled:
            is_role = name == "role" or name.endswith("_role")
            kwargs[name] = principal.role if is_role else principal.name  # type: ignore[union-attr]
        return getattr(store(), op.method)(**kwargs)

    endpoint.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    endpoint.__name__ = op.method
    return endpoint


def store_router(store: Callable[[], MetadataStore]) -> APIRouter:
    router = APIRouter()
    # Literal paths before templated ones: `/runs-running` must not be read as a run id.
    for op in sorted(OPERATIONS, key=lambda o: "{" in o.path):
        doc = inspect.getdoc(getattr(MetadataStore, op.method)) or ""
        returns = signature(op.method).return_annotation
        router.add_api_route(
            op.path,
            _endpoint(op, store),
            methods=[op.verb],
            name=op.method,
            tags=[op.tag],
            summary=op.method.replace("_", " "),
            description=doc,
            response_model=None if returns is None else returns,
        )
    return router


__all__ = ["BOUNDS", "MAX_PAGE", "store_router"]
