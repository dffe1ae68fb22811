"""The governed store: every metadata-store call checks the caller's role first.

`open_metadata_store()` hands this wrapper out, so the rules hold for every caller of
the library — Python API, CLI, pipelines, and the team server, whose routes call the
same store. The server sets the caller (`identity.acting_as`) from the API token;
with a caller set, arguments that name the actor are overwritten with the caller's
name, so nobody can record an action as somebody else. The check runs before the inner
store's method, so the change it guards happens in that method's one transaction.

Each operation is one line of the class: `name = _governed(MetadataStore.name)` gives the
method the interface's own signature, so mypy checks every call of it, and a class missing
an operation cannot be instantiated. What the line enforces comes from the operations
table (`store.operations`): the action a caller needs and the arguments that name the
caller. tests/store/test_store_wrappers.py holds the class to the table.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar

from loopline.errors import InvalidInputError
from loopline.identity import (
    OWNER,
    Principal,
    alias_action,
    authorize,
    current_principal,
    use_remote_identity,
)
from loopline.store.artifacts import ArtifactStore
from loopline.store.interfaces import MetadataStore
from loopline.store.operations import (
    BY_METHOD,
    IDENTITY_ARGS,
    PROVENANCE_ARGS,
    ROLE_ARGS,
    signature,
    with_renamed_args,
)
from loopline.store.records import ApiToken

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class _Rule:
    """What governing one operation takes, read from the operations table on first use."""

    action: str | None  # None: the alias argument decides (identity.alias_action)
    signature: inspect.Signature
    names: tuple[str, ...]  # overwritten with the caller's name
    roles: tuple[str, ...]  # overwritten with the caller's role (the token's)
    provenance: tuple[str, ...]  # embedded: the owner of the store file recorded it
    owner_passes: bool  # an embedded owner's call goes through: nothing to check or rewrite


_RULES: dict[str, _Rule] = {}


def _load_rule(method: str) -> _Rule:
    sig = signature(method)
    action = BY_METHOD[method].action
    provenance = tuple(a for m, a in PROVENANCE_ARGS if m == method)
    rule = _RULES[method] = _Rule(
        action,
        sig,
        tuple(a for a in IDENTITY_ARGS if a in sig.parameters),
        tuple(a for m, a in ROLE_ARGS if m == method),
        provenance,
        owner_passes=action is not None and not provenance,
    )
    return rule


def _governed(
    method: Callable[Concatenate[MetadataStore, P], R],
) -> Callable[Concatenate[GovernedStore, P], R]:
    """`method` of the inner store, called after the caller's role is checked and with the
    arguments that name the caller filled from the caller."""
    name = method.__name__

    def call(self: GovernedStore, /, *args: P.args, **kwargs: P.kwargs) -> R:
        # Both lookups are plain dict reads after the first call: this runs on every call
        # of the library (a tracking loop's metric batches among them).
        target: Callable[..., R] = self._targets.get(name) or self._bind(name)
        rule = _RULES.get(name) or _load_rule(name)
        principal = current_principal()
        if principal is None and rule.owner_passes:
            return target(*args, **kwargs)
        bound = rule.signature.bind(*args, **kwargs)
        authorize(rule.action or alias_action(str(bound.arguments.get("alias", ""))), principal)
        if principal is not None:
            for arg in rule.names:
                bound.arguments[arg] = principal.name
            for arg in rule.roles:  # a role is never the caller's word: the token's
                bound.arguments[arg] = principal.role
        else:
            for arg in rule.provenance:
                bound.arguments[arg] = OWNER
        return target(*bound.args, **bound.kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = method.__doc__
    return with_renamed_args(call, method)


class GovernedStore(MetadataStore):
    """A `MetadataStore` that checks the caller's role, then delegates to `inner`.

    With `artifacts`, a version is registered only if its package is in the artifact
    store (the metadata store cannot see blobs; this wrapper sees both)."""

    def __init__(self, inner: MetadataStore, artifacts: ArtifactStore | None = None) -> None:
        self.inner = inner
        self.url = inner.url
        self._artifacts = artifacts
        self._targets: dict[str, Callable[..., Any]] = {}

    def _bind(self, name: str) -> Callable[..., Any]:
        """The inner store's method `name` (kept: later calls skip the lookup)."""
        target: Callable[..., Any] = getattr(self.inner, name)
        if name == "create_version" and self._artifacts is not None:
            target = _with_package_facts(self._artifacts, target)
        self._targets[name] = target
        return target

    # local: never served, so no role to check ------------------------------------------------
    def close(self) -> None:
        self.inner.close()

    def find_token(self, token_hash: str) -> ApiToken:
        return self.inner.find_token(token_hash)

    # runs ------------------------------------------------------------------------------------
    get_or_create_experiment = _governed(MetadataStore.get_or_create_experiment)
    get_experiment = _governed(MetadataStore.get_experiment)
    list_experiments = _governed(MetadataStore.list_experiments)
    create_run = _governed(MetadataStore.create_run)
    get_run = _governed(MetadataStore.get_run)
    list_runs = _governed(MetadataStore.list_runs)
    finish_run = _governed(MetadataStore.finish_run)
    log_params = _governed(MetadataStore.log_params)
    set_tags = _governed(MetadataStore.set_tags)
    log_metrics = _governed(MetadataStore.log_metrics)
    heartbeat = _governed(MetadataStore.heartbeat)
    metric_history = _governed(MetadataStore.metric_history)
    record_artifact = _governed(MetadataStore.record_artifact)
    get_artifact = _governed(MetadataStore.get_artifact)
    list_artifacts = _governed(MetadataStore.list_artifacts)
    record_dataset_use = _governed(MetadataStore.record_dataset_use)
    run_datasets = _governed(MetadataStore.run_datasets)
    list_datasets = _governed(MetadataStore.list_datasets)
    get_dataset = _governed(MetadataStore.get_dataset)
    add_lineage_edge = _governed(MetadataStore.add_lineage_edge)
    lineage_edges = _governed(MetadataStore.lineage_edges)
    # registry --------------------------------------------------------------------------------
    create_version = _governed(MetadataStore.create_version)
    get_model = _governed(MetadataStore.get_model)
    list_models = _governed(MetadataStore.list_models)
    get_version = _governed(MetadataStore.get_version)
    get_version_by_alias = _governed(MetadataStore.get_version_by_alias)
    list_versions = _governed(MetadataStore.list_versions)
    update_card = _governed(MetadataStore.update_card)
    move_alias = _governed(MetadataStore.move_alias)
    rollback_alias = _governed(MetadataStore.rollback_alias)
    alias_history = _governed(MetadataStore.alias_history)
    add_approval = _governed(MetadataStore.add_approval)
    list_approvals = _governed(MetadataStore.list_approvals)
    set_alias_policy = _governed(MetadataStore.set_alias_policy)
    get_alias_policy = _governed(MetadataStore.get_alias_policy)
    record_gate_decision = _governed(MetadataStore.record_gate_decision)
    list_gate_decisions = _governed(MetadataStore.list_gate_decisions)
    record_evaluation = _governed(MetadataStore.record_evaluation)
    list_evaluations = _governed(MetadataStore.list_evaluations)
    # deployments -----------------------------------------------------------------------------
    create_deployment = _governed(MetadataStore.create_deployment)
    active_deployment = _governed(MetadataStore.active_deployment)
    get_deployment = _governed(MetadataStore.get_deployment)
    list_deployments = _governed(MetadataStore.list_deployments)
    update_deployment = _governed(MetadataStore.update_deployment)
    report_swap_failure = _governed(MetadataStore.report_swap_failure)
    # monitoring ------------------------------------------------------------------------------
    save_monitor = _governed(MetadataStore.save_monitor)
    get_monitor = _governed(MetadataStore.get_monitor)
    list_monitors = _governed(MetadataStore.list_monitors)
    record_monitor_run = _governed(MetadataStore.record_monitor_run)
    list_windows = _governed(MetadataStore.list_windows)
    list_monitor_runs = _governed(MetadataStore.list_monitor_runs)
    raise_alert = _governed(MetadataStore.raise_alert)
    resolve_alert = _governed(MetadataStore.resolve_alert)
    get_alert = _governed(MetadataStore.get_alert)
    list_alerts = _governed(MetadataStore.list_alerts)
    record_delivery = _governed(MetadataStore.record_delivery)
    update_delivery = _governed(MetadataStore.update_delivery)
    list_deliveries = _governed(MetadataStore.list_deliveries)
    request_retrain = _governed(MetadataStore.request_retrain)
    update_retrain_request = _governed(MetadataStore.update_retrain_request)
    list_retrain_requests = _governed(MetadataStore.list_retrain_requests)
    record_labels_change = _governed(MetadataStore.record_labels_change)
    # auth ------------------------------------------------------------------------------------
    create_token = _governed(MetadataStore.create_token)
    list_tokens = _governed(MetadataStore.list_tokens)
    revoke_token = _governed(MetadataStore.revoke_token)
    set_model_owner = _governed(MetadataStore.set_model_owner)
    # audit -----------------------------------------------------------------------------------
    list_audit_events = _governed(MetadataStore.list_audit_events)


def governed(store: MetadataStore, artifacts: ArtifactStore | None = None) -> MetadataStore:
    return GovernedStore(store, artifacts)


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


def _with_package_facts(
    artifacts: ArtifactStore, create_version: Callable[..., Any]
) -> Callable[..., Any]:
    """`create_version` with the card's serialization facts read from the package itself."""

    def call(model: str, **kwargs: Any) -> Any:
        sha = kwargs.get("sha256")
        if isinstance(sha, str) and len(sha) == 64:
            card = kwargs.get("card")
            card = dict(card) if isinstance(card, Mapping) else {}
            kwargs["card"] = {**card, **_package_facts(artifacts, sha)}
        return create_version(model, **kwargs)

    return call


def _remote_caller() -> Principal:
    # Imported on first use: embedded mode never loads the HTTP client.
    from loopline.store.remote import whoami

    return whoami()


# Remote mode: who is acting is whoever the team server says the token belongs to. The
# store hands that question to `identity` here, on import, so identity (core) never
# imports the store and `current_user()` works before the first store is opened.
use_remote_identity(_remote_caller)

__all__ = ["GovernedStore", "governed"]
