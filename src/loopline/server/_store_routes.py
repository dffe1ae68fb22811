"""The REST routes of the metadata store, built from `store.operations.OPERATIONS`.

Each route's query parameters, JSON body and response schema come from the store
method's type hints, so the OpenAPI document is exact and the remote client (which
reads the same table) cannot disagree with the server. Arguments that name the caller
are not part of any body: the server fills them from the API token. A path renamed for
docs/vocabulary.md answers one more release at its old place too (`MOVED_FROM`).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import AliasChoices, ConfigDict, Field, create_model

from loopline.errors import AuthenticationError
from loopline.identity import current_principal
from loopline.store import MetadataStore
from loopline.store.operations import (
    DEPRECATED_AT,
    OPERATIONS,
    RENAMED_ARGS,
    Operation,
    moved_operations,
    server_filled,
    signature,
)

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


@dataclass
class _Arguments:
    """How one route's request becomes the store method's arguments."""

    params: list[inspect.Parameter]  # the endpoint's, for FastAPI: path, query and body
    body_fields: dict[str, Any]
    filled: list[str]  # named by the caller's token, never by the request
    nullable_query: list[str]  # "" on the wire means None
    old_query: dict[str, str]  # last release's name of a query parameter → its name now


def _arguments(op: Operation) -> _Arguments:
    sig = signature(op.method)
    params: list[inspect.Parameter] = []
    body_fields: dict[str, Any] = {}
    old_names = {new: old for old, new in RENAMED_ARGS.get(op.method, {}).items()}
    for p in sig.parameters.values():
        if _server_filled(op, p.name) or p.name in dict(op.fixed):
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
            if p.name in old_names:
                old = Query(ge=ge, le=le, deprecated=True, description=f"Use {p.name}.")
                params.append(
                    inspect.Parameter(
                        old_names[p.name],
                        _KW,
                        annotation=Annotated[p.annotation, old],
                        default=None,
                    )
                )
        else:
            ge, le = _bounds(p.name, p.annotation)
            default = ... if p.default is _EMPTY else p.default
            alias = AliasChoices(p.name, old_names[p.name]) if p.name in old_names else None
            body_fields[p.name] = (
                p.annotation,
                Field(default, ge=ge, le=le, validation_alias=alias),
            )
    if body_fields:
        model = create_model(
            "".join(w.title() for w in op.method.split("_")) + "Body",
            __config__=ConfigDict(extra="ignore"),
            **body_fields,
        )
        params.append(inspect.Parameter("body", _KW, annotation=model))
    filled = [n for n in sig.parameters if _server_filled(op, n)]
    nullable_query = [
        p.name
        for p in sig.parameters.values()
        if op.verb == "GET" and p.default not in (None, _EMPTY) and _nullable_str(p.annotation)
    ]
    old_query = {o: n for n, o in old_names.items() if op.verb == "GET"}
    return _Arguments(params, body_fields, filled, nullable_query, old_query)


def _store_kwargs(args: _Arguments, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The store method's arguments from the endpoint's: the body unpacked, "" read as None,
    and the caller's name and role from the token."""
    for old, new in args.old_query.items():
        value = kwargs.pop(old, None)
        if value is not None and kwargs.get(new) is None:
            kwargs[new] = value  # last release's client
    for name in args.nullable_query:
        if kwargs.get(name) == "":
            kwargs[name] = None  # the client's way of saying None (see store.remote)
    body = kwargs.pop("body", None)
    if body is not None:
        kwargs.update({name: getattr(body, name) for name in args.body_fields})
    principal = current_principal()
    if args.filled and principal is None:  # AuthMiddleware guarantees one; be explicit
        raise AuthenticationError("no API token", hint="send 'Authorization: Bearer <token>'")
    for name in args.filled:
        is_role = name == "role" or name.endswith("_role")
        kwargs[name] = principal.role if is_role else principal.name  # type: ignore[union-attr]
    return kwargs


def _endpoint(op: Operation, store: Callable[[], MetadataStore]) -> Callable[..., Any]:
    args = _arguments(op)

    def endpoint(**kwargs: Any) -> Any:
        return getattr(store(), op.method)(**_store_kwargs(args, kwargs))

    endpoint.__signature__ = inspect.Signature(args.params)  # type: ignore[attr-defined]
    endpoint.__name__ = op.method
    return endpoint


def _moved_endpoint(
    old: Operation, new: Operation, store: Callable[[], MetadataStore]
) -> Callable[..., Any]:
    """The operation at last release's path: the same answer, with a `Deprecation` header
    (RFC 9745) and a `Link` to the same resource at its new path."""
    args = _arguments(old)

    def endpoint(http_request: Request, http_response: Response, **kwargs: Any) -> Any:
        values = _store_kwargs(args, kwargs) | dict(old.fixed)
        http_response.headers["Deprecation"] = f"@{DEPRECATED_AT}"
        link = _successor(http_request, old, new, values)
        http_response.headers["Link"] = f'<{link}>; rel="successor-version"'
        return getattr(store(), old.method)(**values)

    extra = [
        inspect.Parameter("http_request", _KW, annotation=Request),
        inspect.Parameter("http_response", _KW, annotation=Response),
    ]
    endpoint.__signature__ = inspect.Signature(extra + args.params)  # type: ignore[attr-defined]
    endpoint.__name__ = old.method
    return endpoint


def _successor(request: Request, old: Operation, new: Operation, values: dict[str, Any]) -> str:
    """The URL of what `request` asked for, at the operation's new path: the router's
    prefix kept, arguments that moved into the path taken out of the query."""
    # What comes before the old route's own segments (none of which can hold a '/'):
    # the router's prefix, /api/v1.
    asked: str = request.scope["path"]
    prefix = asked.rsplit("/", old.path.count("/"))[0]
    path = prefix + new.fill(values, lambda v: quote(v, safe=""))
    fixed = dict(old.fixed)
    asked_for = request.query_params.multi_items()
    query = [(k, v) for k, v in asked_for if k not in new.path_params and k not in fixed]
    query += [(k, str(v)) for k, v in fixed.items()]
    return path + (f"?{urlencode(query)}" if query else "")


def store_router(store: Callable[[], MetadataStore]) -> APIRouter:
    router = APIRouter()
    # Literal paths before templated ones: a literal segment must not be read as an id.
    for op in sorted(OPERATIONS, key=lambda o: "{" in o.path):
        _add(router, op, _endpoint(op, store))
    for old, new in moved_operations():
        _add(router, old, _moved_endpoint(old, new, store), deprecated=True)
    return router


def _add(
    router: APIRouter, op: Operation, endpoint: Callable[..., Any], deprecated: bool = False
) -> None:
    doc = inspect.getdoc(getattr(MetadataStore, op.method)) or ""
    returns = signature(op.method).return_annotation
    router.add_api_route(
        op.path,
        endpoint,
        methods=[op.verb],
        name=op.method,
        tags=[op.tag],
        summary=op.method.replace("_", " ") + (" (old path)" if deprecated else ""),
        description=doc,
        response_model=None if returns is None else returns,
        deprecated=deprecated or None,
    )


__all__ = ["BOUNDS", "MAX_PAGE", "store_router"]
