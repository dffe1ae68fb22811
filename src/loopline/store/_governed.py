"""The governed store: every metadata-store call checks the caller's role first.

`open_metadata_store()` hands this wrapper out, so the rules hold for every caller of
the library — Python API, CLI, pipelines, and the team server, whose routes call the
same store. The server sets the caller (`identity.acting_as`) from the API token;
with a caller set, arguments that name the actor are overwritten with the caller's
name, so nobody can record an action as somebody else.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, cast

from loopline.errors import InvalidInputError
from loopline.identity import (
    OWNER,
    Principal,
    alias_action,
    authorize,
    current_principal,
    use_remote_identity,
)
from loopline.store._artifacts import ArtifactStore
from loopline.store._base import MetadataStore
from loopline.store._operations import (
    BY_METHOD,
    IDENTITY_ARGS,
    PROVENANCE_ARGS,
    ROLE_ARGS,
    signature,
)

_LOCAL_ACTIONS: dict[str, str | None] = {"find_token": None, "close": None}


class GovernedStore:
    """Delegates to `inner` after `authorize`; behaves as a `MetadataStore`.

    With `artifacts`, a version is registered only if its package is in the artifact
    store (the metadata store cannot see blobs; this wrapper sees both)."""

    def __init__(self, inner: MetadataStore, artifacts: ArtifactStore | None = None) -> None:
        self.inner = inner
        self.url = inner.url
        self._artifacts = artifacts

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)
        if name == "create_version" and self._artifacts is not None:
            target = _with_artifact_check(self._artifacts, target)
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
    role_args = [a for m, a in ROLE_ARGS if m == name]
    provenance = [a for m, a in PROVENANCE_ARGS if m == name]

    def call(*args: Any, **kwargs: Any) -> Any:
        principal = current_principal()
        if principal is None and op.action is not None and not provenance:
            return target(*args, **kwargs)  # embedded owner: nothing to check or rewrite
        bound = sig.bind(*args, **kwargs)
        action = op.action or alias_action(str(bound.arguments.get("alias", "")))
        authorize(action, principal)
        if principal is not None:
            for arg in identity:
                bound.arguments[arg] = principal.name
        if principal is not None:
            for arg in role_args:  # a role is never the caller's word: the token's
                bound.arguments[arg] = principal.role
        else:  # embedded: the owner of the store file recorded it
            for arg in provenance:
                bound.arguments[arg] = OWNER
        return target(*bound.args, **bound.kwargs)

    return call


# Model serializations that load without running their author's code. Everything else
# (joblib/pickle, or a format this store does not know) is marked `unsafe_pickle` on the
# card, which protected aliases' policies refuse. `tests/security` holds this equal to
# `models._flavors`' safe set.
SAFE_SERIALIZATIONS = frozenset(
    {"skops", "lightgbm-text", "xgboost-ubj", "prompt-json", "index-npz"}
)


def _package_facts(artifacts: ArtifactStore, sha: str) -> dict[str, Any]:
    """The serialization facts of the package `sha`, read from its manifest here, on the
    store's side: a card sent by the author cannot hide a pickle."""
    if not artifacts.exists(sha):
        raise InvalidInputError(
            f"no artifact {sha[:12]}… in the artifact store: a version must name a "
            "stored model package",
            hint="upload the package first (ll.log_model / run.log_model do)",
        )
    try:
        manifest = json.loads(artifacts.get_bytes(sha))
    except (UnicodeDecodeError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or not str(manifest.get("format", "")).startswith(
        "loopline-model/"
    ):
        raise InvalidInputError(
            f"artifact {sha[:12]}… is not a Loopline model package (no manifest)",
            hint="register the sha256 that log_model / save_model returned",
        )
    serialization = str(manifest.get("serialization", ""))
    types = manifest.get("trusted_types")
    return {
        "serialization": serialization,
        "unsafe_pickle": serialization not in SAFE_SERIALIZATIONS,
        "trusted_types": sorted(str(t) for t in types) if isinstance(types, list) else [],
    }


def _with_artifact_check(
    artifacts: ArtifactStore, create_version: Callable[..., Any]
) -> Callable[..., Any]:
    def call(model: str, **kwargs: Any) -> Any:
        sha = kwargs.get("sha256")
        if isinstance(sha, str) and len(sha) == 64:
            card = kwargs.get("card")
            card = dict(card) if isinstance(card, Mapping) else {}
            kwargs["card"] = {**card, **_package_facts(artifacts, sha)}
        return create_version(model, **kwargs)

    return call


def governed(store: MetadataStore, artifacts: ArtifactStore | None = None) -> MetadataStore:
    return cast(MetadataStore, GovernedStore(store, artifacts))


MetadataStore.register(GovernedStore)


def _remote_caller() -> Principal:
    # Imported on first use: embedded mode never loads the HTTP client.
    from loopline.store._http import whoami

    return whoami()


# Remote mode: who is acting is whoever the team server says the token belongs to. The
# store hands that question to `identity` here, on import, so identity (core) never
# imports the store and `current_user()` works before the first store is opened.
use_remote_identity(_remote_caller)

__all__ = ["GovernedStore", "governed"]
