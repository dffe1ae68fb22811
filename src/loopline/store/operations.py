"""Every metadata-store operation as a REST endpoint and an authorization action.

One table drives three things, so they cannot drift apart:
- the team server's routes (`loopline.server`): verb, path, query and body from the
  store method's signature, response from its return type;
- the remote client (`HttpMetadataStore`): the same mapping in reverse;
- the governed store: which role may call the method, and which arguments name the
  caller (overwritten with the authenticated identity, so a client cannot act as
  somebody else).

Paths are relative to `/api/v1`. Path parameters are the method's arguments of the same
name (`{name:path}` for one that may hold '/'); for GET the other arguments are query
parameters, otherwise one JSON body. Paths follow docs/vocabulary.md; the ones renamed for it
still answer for one release at their old path (`MOVED_FROM`), marked deprecated.

tests/store/test_operations_table.py checks the table against `MetadataStore` (every
abstract method served or local-only, path parameters, paging, GET defaults), in the build
rather than at import time, which every CLI command would pay for.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import cache
from typing import Any, TypeVar, cast

from loopline._renamed import renamed_keywords
from loopline.store.interfaces import (
    MAX_DATASETS_PAGE,
    MAX_RUNS_PAGE,
    MAX_VERSIONS_PAGE,
    MetadataStore,
)

# An action of None means "depends on the alias argument" (see loopline.identity.alias_action).
ALIAS_DEPENDENT = None


@dataclass(frozen=True)
class Paging:
    """A listing served a page at a time. The route takes `limit` from 1 to `most` (its
    default: the method's); `limit=None` never crosses the wire: the remote client asks for
    pages of `most`, passing the last item's `key` as `cursor`, until one comes back short."""

    most: int
    cursor: str = "before"
    key: str = "version"


@dataclass(frozen=True)
class Operation:
    method: str
    verb: str
    path: str
    action: str | None
    tag: str
    paging: Paging | None = None
    # (argument, value) pairs a path stands for: `/runs-running` is `list_runs` with
    # status "running" (see MOVED_FROM). The route takes them from the path, not the request.
    fixed: tuple[tuple[str, Any], ...] = ()

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(_PATH_PARAM.findall(self.path))

    def fill(self, values: Mapping[str, Any], quote: Callable[[str], str]) -> str:
        """The path with each parameter replaced by its value, quoted by `quote`."""
        return _PATH_PARAM.sub(lambda m: quote(str(values[m[1]])), self.path)


_PATH_PARAM = re.compile(r"{(\w+)(?::path)?}")


def _ops(tag: str, *rows: tuple[str, str, str, str | None]) -> list[Operation]:
    return [Operation(m, verb, path, action, tag) for m, verb, path, action in rows]


R, W = "read", "runs.write"
OPERATIONS: list[Operation] = [
    *_ops(
        "experiments",
        ("list_experiments", "GET", "/experiments", R),
        ("get_or_create_experiment", "POST", "/experiments", W),
        ("get_experiment", "GET", "/experiments/{name}", R),
    ),
    *_ops(
        "runs",
        ("list_runs", "GET", "/runs", R),
        ("create_run", "POST", "/runs", W),
        ("get_run", "GET", "/runs/{run_id}", R),
        ("finish_run", "POST", "/runs/{run_id}/finish", W),
        ("heartbeat", "POST", "/runs/{run_id}/heartbeat", W),
        ("log_params", "POST", "/runs/{run_id}/params", W),
        ("set_tags", "POST", "/runs/{run_id}/tags", W),
        ("log_metrics", "POST", "/runs/{run_id}/metrics", W),
        ("metric_history", "GET", "/runs/{run_id}/metrics", R),
        ("record_artifact", "POST", "/runs/{run_id}/artifacts", W),
        ("list_artifacts", "GET", "/runs/{run_id}/artifacts", R),
        ("get_artifact", "GET", "/runs/{run_id}/artifacts/{path:path}", R),
        ("record_dataset_use", "POST", "/runs/{run_id}/datasets", W),
        ("run_datasets", "GET", "/runs/{run_id}/datasets", R),
    ),
    Operation(
        "list_datasets",
        "GET",
        "/datasets",
        R,
        "datasets",
        paging=Paging(MAX_DATASETS_PAGE, key="id"),
    ),
    *_ops(
        "datasets",
        ("get_dataset", "GET", "/datasets/{fingerprint}", R),
        ("add_lineage_edge", "POST", "/lineage", W),
        ("lineage_edges", "GET", "/lineage", R),
    ),
    *_ops(
        "models",
        ("list_models", "GET", "/models", R),
        ("get_model", "GET", "/models/{model}", R),
        ("set_model_owner", "PUT", "/models/{model}/owner", "models.owner"),
        ("create_version", "POST", "/models/{model}/versions", "models.register"),
        ("get_version", "GET", "/models/{model}/versions/{version}", R),
        ("update_card", "PUT", "/models/{model}/versions/{version}/card", "models.register"),
        ("get_version_by_alias", "GET", "/models/{model}/aliases/{alias}", R),
        ("move_alias", "PUT", "/models/{model}/aliases/{alias}", ALIAS_DEPENDENT),
        ("rollback_alias", "POST", "/models/{model}/aliases/{alias}/rollback", "rollback"),
        ("alias_history", "GET", "/models/{model}/alias-moves", R),
        ("set_alias_policy", "PUT", "/models/{model}/aliases/{alias}/policy", "policy.write"),
        ("get_alias_policy", "GET", "/models/{model}/aliases/{alias}/policy", R),
        ("add_approval", "POST", "/models/{model}/versions/{version}/approvals", "approve"),
        ("list_approvals", "GET", "/models/{model}/versions/{version}/approvals", R),
        # Recording a gate decision for an alias needs what moving that alias needs.
        (
            "record_gate_decision",
            "POST",
            "/models/{model}/versions/{version}/gate-decisions",
            ALIAS_DEPENDENT,
        ),
        ("list_gate_decisions", "GET", "/models/{model}/versions/{version}/gate-decisions", R),
        (
            "record_evaluation",
            "POST",
            "/models/{model}/versions/{version}/evaluations",
            "evaluate",
        ),
        ("list_evaluations", "GET", "/models/{model}/versions/{version}/evaluations", R),
    ),
    Operation(
        "list_versions",
        "GET",
        "/models/{model}/versions",
        R,
        "models",
        paging=Paging(MAX_VERSIONS_PAGE),
    ),
    *_ops(
        "deployments",
        ("create_deployment", "POST", "/models/{model}/deployments", "deploy"),
        ("list_deployments", "GET", "/models/{model}/deployments", R),
        ("active_deployment", "GET", "/models/{model}/active-deployment", R),
        ("get_deployment", "GET", "/deployments/{deployment_id}", R),
        ("update_deployment", "PATCH", "/deployments/{deployment_id}", "deploy"),
        (
            "report_swap_failure",
            "POST",
            "/models/{model}/versions/{version}/swap-failures",
            "deploy",
        ),
    ),
    *_ops(
        "monitoring",
        ("list_monitors", "GET", "/monitors", R),
        ("save_monitor", "PUT", "/monitors", "monitors.write"),
        ("get_monitor", "GET", "/monitors/by-uri", R),
        ("record_monitor_run", "POST", "/monitors/{monitor_id}/runs", "monitors.write"),
        ("list_monitor_runs", "GET", "/monitors/{monitor_id}/runs", R),
        ("list_windows", "GET", "/monitors/{monitor_id}/windows", R),
        ("list_alerts", "GET", "/alerts", R),
        ("raise_alert", "POST", "/alerts", "monitors.write"),
        # A rule is `SIGNAL:COLUMN` and a column name may hold '/'.
        (
            "resolve_alert",
            "POST",
            "/models/{model}/alerts/{rule:path}/resolve",
            "monitors.write",
        ),
        ("get_alert", "GET", "/alerts/{alert_id}", R),
        ("record_delivery", "POST", "/alerts/{alert_id}/deliveries", "monitors.write"),
        ("list_deliveries", "GET", "/deliveries", R),
        ("update_delivery", "PATCH", "/deliveries/{delivery_id}", "monitors.write"),
        ("list_retrain_requests", "GET", "/retrain-requests", R),
        ("request_retrain", "POST", "/retrain-requests", "monitors.write"),
        ("update_retrain_request", "PATCH", "/retrain-requests/{request_id}", "monitors.write"),
        ("record_labels_change", "POST", "/models/{model}/labels-changes", "monitors.write"),
    ),
    *_ops(
        "audit",
        ("list_audit_events", "GET", "/audit/events", R),
    ),
    *_ops(
        "tokens",
        ("list_tokens", "GET", "/tokens", "admin"),
        ("create_token", "POST", "/tokens", "admin"),
        ("revoke_token", "DELETE", "/tokens/{token_id}", "admin"),
    ),
]
BY_METHOD: dict[str, Operation] = {op.method: op for op in OPERATIONS}

# Last release's paths, renamed for one vocabulary (docs/vocabulary.md §11, issue 19). Each
# answers one more release with the same operation, marked deprecated in the OpenAPI
# document and answered with a `Deprecation` header and a `Link` to the new path (RFC 9745).
MOVED_FROM: dict[str, str] = {
    "get_artifact": "/runs/{run_id}/artifact",  # ?path=
    "alias_history": "/models/{model}/alias-history",
    "get_monitor": "/monitor",  # ?uri=
    "resolve_alert": "/alerts/resolve",  # model and rule in the body
    "list_runs": "/runs-running",  # the store's `list_running()`, gone (§10)
}
# Arguments an old path stood for. `list_running()` answered every running run, up to
# MAX_RUNS_PAGE; its path still does, for last release's clients.
MOVED_FIXED: dict[str, dict[str, Any]] = {
    "list_runs": {"status": "running", "limit": MAX_RUNS_PAGE},
}
# Last release's argument names (docs/vocabulary.md §8, §13), old → new. The store methods
# take them one more release with a LooplineDeprecationWarning (`renamed_keywords`); a route
# reads them too (a query parameter marked deprecated, a body field's second name), so last
# release's remote clients keep working.
RENAMED_ARGS: dict[str, dict[str, str]] = {
    "list_runs": {"order_by": "sort"},
    "rollback_alias": {"to_version": "version"},
}
F = TypeVar("F", bound=Callable[..., Any])


def with_renamed_args(call: F, method: Callable[..., Any]) -> F:
    """`call`, a store class's line for the operation `method`, taking last release's
    argument names (RENAMED_ARGS) for one more release, with a LooplineDeprecationWarning.
    The SQL, governed and remote stores build every line through this: all three take the
    old names the routes take."""
    renames = RENAMED_ARGS.get(method.__name__)
    if not renames:
        return call
    call.__wrapped__ = method  # type: ignore[attr-defined]  # the signature renamed_keywords reads
    return cast(F, renamed_keywords(**renames)(call))


# When they were deprecated: the `Deprecation` header's date (RFC 9745 §2.1).
DEPRECATED_AT = 1796515200  # 2026-12-06T00:00:00Z


def moved_operations() -> list[tuple[Operation, Operation]]:
    """(operation at its old path, the same operation at its new path), for each move."""
    return [
        (replace(BY_METHOD[m], path=old, fixed=tuple(MOVED_FIXED.get(m, {}).items())), BY_METHOD[m])
        for m, old in MOVED_FROM.items()
    ]


# Methods that never cross the wire: token lookup (the server's own business; a client
# creating a token sends only the hash of a secret it made) and closing the connection.
LOCAL_ONLY = frozenset({"find_token", "close"})

# Arguments that name the caller. With an authenticated principal they are overwritten
# with its name, whatever the client sent.
IDENTITY_ARGS = ("actor", "created_by", "decided_by", "approver", "recorded_by")
# (method, argument) pairs that carry the caller's role, overwritten with the token's role:
# an approval's role, and the provenance of an evaluation (only the ci role's count
# as evidence for a protected alias).
ROLE_ARGS = frozenset(
    {
        ("add_approval", "role"),
        ("record_evaluation", "recorder_role"),
        ("create_version", "creator_role"),
        ("record_gate_decision", "decider_role"),
    }
)
# Of those, the provenance of evidence: filled even in embedded mode (with the owner's role).
PROVENANCE_ARGS = frozenset(
    {
        ("record_evaluation", "recorder_role"),
        ("create_version", "creator_role"),
        ("record_gate_decision", "decider_role"),
    }
)


def server_filled(method: str, arg: str) -> bool:
    """True for an argument the server fills from the token, never from the request."""
    return arg in IDENTITY_ARGS or (method, arg) in ROLE_ARGS


@cache
def signature(method: str) -> inspect.Signature:
    """The store method's signature with annotations resolved (self dropped)."""
    fn = getattr(MetadataStore, method)
    hints = typing.get_type_hints(fn)
    sig = inspect.signature(fn)
    params = [
        p.replace(annotation=hints.get(p.name, Any))
        for p in sig.parameters.values()
        if p.name != "self"
    ]
    return sig.replace(parameters=params, return_annotation=hints.get("return", Any))


__all__ = [
    "BY_METHOD",
    "DEPRECATED_AT",
    "IDENTITY_ARGS",
    "LOCAL_ONLY",
    "MOVED_FIXED",
    "MOVED_FROM",
    "OPERATIONS",
    "PROVENANCE_ARGS",
    "RENAMED_ARGS",
    "ROLE_ARGS",
    "Operation",
    "Paging",
    "moved_operations",
    "server_filled",
    "signature",
    "with_renamed_args",
]
