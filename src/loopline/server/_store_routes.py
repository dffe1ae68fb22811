"""The REST routes of the metadata store, built from `store._operations.OPERATIONS`.

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
from pydantic import ConfigDict, create_model

from loopline.errors import AuthenticationError
from loopline.ops._roles import current_principal
from loopline.store import MetadataStore
from loopline.store._operations import IDENTITY_ARGS, OPERATIONS, Operation, signature

_EMPTY = inspect.Parameter.empty
_KW = inspect.Parameter.KEYWORD_ONLY


def _server_filled(op: Operation, name: str) -> bool:
    return name in IDENTITY_ARGS or (op.method == "add_approval" and name == "role")


def _nullable_str(annotation: Any) -> bool:
    return set(typing.get_args(annotation)) == {str, type(None)}


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
        elif op.verb == "GET":
            default = None if p.default is _EMPTY else p.default
            params.append(
                inspect.Parameter(
                    p.name, _KW, annotation=Annotated[p.annotation, Query()], default=default
                )
            )
        else:
            body_fields[p.name] = (p.annotation, ... if p.default is _EMPTY else p.default)
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
                kwargs[name] = None  # the client's way of saying None (see store._http)
        body = kwargs.pop("body", None)
        if body is not None:
            kwargs.update({name: getattr(body, name) for name in body_fields})
        principal = current_principal()
        if filled and principal is None:  # AuthMiddleware guarantees one; be explicit
            raise AuthenticationError("no API token", hint="send 'Authorization: Bearer <token>'")
        for name in filled:
            kwargs[name] = principal.role if name == "role" else principal.name  # type: ignore[union-attr]
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


__all__ = ["store_router"]
