"""The governed store: every metadata-store call checks the caller's role first.

`open_metadata_store()` hands this wrapper out, so the rules hold for every caller of
the library — Python API, CLI, pipelines, and the team server, whose routes call the
same store. The server sets the caller (`ops._roles.acting_as`) from the API token;
with a caller set, arguments that name the actor are overwritten with the caller's
name, so nobody can record an action as somebody else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from loopline.ops._roles import alias_action, authorize, current_principal
from loopline.store._base import MetadataStore
from loopline.store._operations import BY_METHOD, IDENTITY_ARGS, signature

_LOCAL_ACTIONS: dict[str, str | None] = {"find_token": None, "close": None}


class GovernedStore:
    """Delegates to `inner` after `authorize`; behaves as a `MetadataStore`."""

    def __init__(self, inner: MetadataStore) -> None:
        self.inner = inner
        self.url = inner.url

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)
        if name in BY_METHOD:
            wrapped = _governed(name, target)
        elif name in _LOCAL_ACTIONS:
            action = _LOCAL_ACTIONS[name]
            wrapped = target if action is None else _checked(action, target)
        else:
            raise AttributeError(f"{name} is not a metadata-store operation")
        # Cache on the instance: later lookups skip __getattr__ entirely.
        self.__dict__[name] = wrapped
        return wrapped


def _checked(action: str, target: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        authorize(action)
        return target(*args, **kwargs)

    return call


def _governed(name: str, target: Callable[..., Any]) -> Callable[..., Any]:
    op = BY_METHOD[name]
    sig = signature(name)
    identity = [a for a in IDENTITY_ARGS if a in sig.parameters]
    takes_role = name == "add_approval"

    def call(*args: Any, **kwargs: Any) -> Any:
        principal = current_principal()
        if principal is None and op.action is not None:
            return target(*args, **kwargs)  # embedded owner: nothing to check or rewrite
        bound = sig.bind(*args, **kwargs)
        action = op.action or alias_action(str(bound.arguments.get("alias", "")))
        authorize(action, principal)
        if principal is not None:
            for arg in identity:
                bound.arguments[arg] = principal.name
            if takes_role:
                bound.arguments["role"] = principal.role
        return target(*bound.args, **bound.kwargs)

    return call


def governed(store: MetadataStore) -> MetadataStore:
    return cast(MetadataStore, GovernedStore(store))


MetadataStore.register(GovernedStore)

__all__ = ["GovernedStore", "governed"]
