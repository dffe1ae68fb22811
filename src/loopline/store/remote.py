"""Remote mode: the metadata and artifact stores as clients of `loopline server`.

With `LOOPLINE_URL` (and `LOOPLINE_TOKEN`) set, `open_metadata_store()` returns an
`HttpMetadataStore`. It implements every store method by calling the REST route that
`operations.OPERATIONS` assigns to it, so tracking, registry, gates, serving and
monitoring run unchanged on top — the same code, the same tests, another transport.
Errors come back as the same `LooplineError` subclasses the server raised.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any, Concatenate, NoReturn, ParamSpec, TypeVar, cast

import httpx
from pydantic import TypeAdapter
from pydantic_core import to_jsonable_python

from loopline.config import load_settings
from loopline.errors import (
    ArtifactCorruptedError,
    ConfigError,
    InvalidInputError,
    LooplineError,
    StoreUnavailableError,
)
from loopline.identity import Principal
from loopline.store.artifacts import ArtifactStore, sha256_file
from loopline.store.interfaces import MetadataStore
from loopline.store.operations import BY_METHOD, Operation, signature, with_renamed_args

API = "/api/v1"
P = ParamSpec("P")
R = TypeVar("R")
_CHUNK = 1 << 20


def _error_classes() -> dict[str, type[LooplineError]]:
    found: dict[str, type[LooplineError]] = {}
    todo: list[type[LooplineError]] = [LooplineError]
    while todo:
        cls = todo.pop()
        found.setdefault(cls.code, cls)
        todo.extend(cls.__subclasses__())
    return found


def raise_for_error(response: httpx.Response) -> None:
    """Turn a 4xx/5xx JSON error body back into the LooplineError the server raised."""
    if response.status_code < 400:
        return
    try:
        body = response.json()["error"]
        code, message = str(body["code"]), str(body["message"])
        hint, details = str(body.get("hint") or ""), body.get("details") or {}
    except (ValueError, KeyError, TypeError):
        raise StoreUnavailableError(
            f"{response.request.method} {response.request.url} answered "
            f"{response.status_code} without a Loopline error body",
            hint="is LOOPLINE_URL the address of a `loopline server`?",
        ) from None
    if hint and message.endswith(f" — {hint}"):
        message = message[: -len(hint) - 3]
    cls = _error_classes().get(code, LooplineError)
    raise cls(message, hint=hint, details=details if isinstance(details, dict) else {})


class _Client:
    """One HTTP connection pool per (server, token), shared by the two stores."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=self.url + API, headers=headers, timeout=60.0)

    def request(self, verb: str, path: str, **kwargs: Any) -> httpx.Response:
        # A rate-limited request is retried after the server's Retry-After, for up to a
        # minute: a training job should slow down, not crash. A streamed upload cannot
        # be replayed, so it is not retried.
        replayable = not hasattr(kwargs.get("content"), "read")
        deadline = time.monotonic() + 60.0
        while True:
            try:
                response = self.http.request(verb, path, **kwargs)
            except httpx.TransportError as exc:
                self._unreachable(exc)
            if response.status_code != 429 or not replayable or time.monotonic() > deadline:
                break
            time.sleep(min(5.0, float(response.headers.get("retry-after", "1"))))
        raise_for_error(response)
        return response

    def stream(self, path: str) -> Iterator[bytes]:
        deadline = time.monotonic() + 60.0
        try:
            while True:
                with self.http.stream("GET", path) as response:
                    if response.status_code == 429 and time.monotonic() < deadline:
                        time.sleep(min(5.0, float(response.headers.get("retry-after", "1"))))
                        continue
                    if response.status_code >= 400:
                        response.read()
                        raise_for_error(response)
                    yield from response.iter_bytes(_CHUNK)
                    return
        except httpx.TransportError as exc:
            self._unreachable(exc)

    def _unreachable(self, exc: Exception) -> NoReturn:
        raise StoreUnavailableError(
            f"cannot reach the Loopline server at {self.url}: {exc}",
            hint="is `loopline server` running there? check LOOPLINE_URL",
        ) from None


@cache
def _client(url: str, token: str) -> _Client:
    return _Client(url, token)


@cache
def _adapter(method: str) -> TypeAdapter[Any]:
    return TypeAdapter(signature(method).return_annotation)


def _remote(
    method: Callable[Concatenate[MetadataStore, P], R],
) -> Callable[Concatenate[HttpMetadataStore, P], R]:
    """`method` as one call to the route the operations table gives it."""
    name = method.__name__

    def call(self: HttpMetadataStore, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return cast(R, self._send(name, args, kwargs))

    call.__name__ = call.__qualname__ = name
    call.__doc__ = method.__doc__
    return with_renamed_args(call, method)


class HttpMetadataStore(MetadataStore):
    """A `MetadataStore` whose every method is one call to the team server.

    Each operation is one line below (as in `GovernedStore`): the interface's signature,
    checked by mypy; the route from the operations table."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self._client = _client(url, token)

    def close(self) -> None:
        pass  # the pool is shared per (url, token) and lives as long as the process

    def find_token(self, token_hash: str) -> NoReturn:
        raise ConfigError(
            "token lookup happens on the server", hint="authenticate by sending the token"
        )

    def _send(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        op = BY_METHOD[method]
        bound = signature(method).bind(*args, **kwargs)
        bound.apply_defaults()
        values = dict(bound.arguments)
        if op.paging is not None and values.get("limit") is None:
            return self._every_page(op, values)
        return self._request(op, values)

    def _request(self, op: Operation, values: dict[str, Any]) -> Any:
        sig = signature(op.method)
        values = dict(values)
        path = op.fill(values, httpx_quote)
        for name in op.path_params:
            del values[name]
        if op.verb == "GET":
            # An omitted parameter means its default; an explicit None where the default
            # is something else (list_alerts(status=None): all statuses) travels as "".
            query = {
                k: ("" if v is None else v)
                for k, v in values.items()
                if v is not None or sig.parameters[k].default is not None
            }
            response = self._client.request("GET", path, params=to_jsonable_python(query))
        else:
            try:
                response = self._client.request(op.verb, path, json=to_jsonable_python(values))
            except UnicodeEncodeError:  # a lone surrogate: not text, cannot be sent
                raise InvalidInputError(
                    f"{op.method}: an argument holds a lone surrogate, which is not text",
                    hint="send valid UTF-8 strings",
                ) from None
        data = response.json()
        return None if data is None else _adapter(op.method).validate_python(data)

    def _every_page(self, op: Operation, values: dict[str, Any]) -> list[Any]:
        # The server serves a paged listing at most `most` items at a time: `limit=None`
        # (everything) is pages of `most`, each starting below the last item seen.
        paging = op.paging
        assert paging is not None
        out: list[Any] = []
        while True:
            page = self._request(op, {**values, "limit": paging.most})
            out += page
            if len(page) < paging.most:
                return out
            values[paging.cursor] = getattr(page[-1], paging.key)

    # runs ------------------------------------------------------------------------------------
    get_or_create_experiment = _remote(MetadataStore.get_or_create_experiment)
    get_experiment = _remote(MetadataStore.get_experiment)
    list_experiments = _remote(MetadataStore.list_experiments)
    create_run = _remote(MetadataStore.create_run)
    get_run = _remote(MetadataStore.get_run)
    list_runs = _remote(MetadataStore.list_runs)
    finish_run = _remote(MetadataStore.finish_run)
    log_params = _remote(MetadataStore.log_params)
    set_tags = _remote(MetadataStore.set_tags)
    log_metrics = _remote(MetadataStore.log_metrics)
    heartbeat = _remote(MetadataStore.heartbeat)
    metric_history = _remote(MetadataStore.metric_history)
    record_artifact = _remote(MetadataStore.record_artifact)
    get_artifact = _remote(MetadataStore.get_artifact)
    list_artifacts = _remote(MetadataStore.list_artifacts)
    record_dataset_use = _remote(MetadataStore.record_dataset_use)
    run_datasets = _remote(MetadataStore.run_datasets)
    list_datasets = _remote(MetadataStore.list_datasets)
    get_dataset = _remote(MetadataStore.get_dataset)
    add_lineage_edge = _remote(MetadataStore.add_lineage_edge)
    lineage_edges = _remote(MetadataStore.lineage_edges)
    # registry --------------------------------------------------------------------------------
    create_version = _remote(MetadataStore.create_version)
    get_model = _remote(MetadataStore.get_model)
    list_models = _remote(MetadataStore.list_models)
    get_version = _remote(MetadataStore.get_version)
    get_version_by_alias = _remote(MetadataStore.get_version_by_alias)
    list_versions = _remote(MetadataStore.list_versions)
    update_card = _remote(MetadataStore.update_card)
    move_alias = _remote(MetadataStore.move_alias)
    rollback_alias = _remote(MetadataStore.rollback_alias)
    alias_history = _remote(MetadataStore.alias_history)
    add_approval = _remote(MetadataStore.add_approval)
    list_approvals = _remote(MetadataStore.list_approvals)
    set_alias_policy = _remote(MetadataStore.set_alias_policy)
    get_alias_policy = _remote(MetadataStore.get_alias_policy)
    record_gate_decision = _remote(MetadataStore.record_gate_decision)
    list_gate_decisions = _remote(MetadataStore.list_gate_decisions)
    record_evaluation = _remote(MetadataStore.record_evaluation)
    list_evaluations = _remote(MetadataStore.list_evaluations)
    # deployments -----------------------------------------------------------------------------
    create_deployment = _remote(MetadataStore.create_deployment)
    active_deployment = _remote(MetadataStore.active_deployment)
    get_deployment = _remote(MetadataStore.get_deployment)
    list_deployments = _remote(MetadataStore.list_deployments)
    update_deployment = _remote(MetadataStore.update_deployment)
    report_swap_failure = _remote(MetadataStore.report_swap_failure)
    # monitoring ------------------------------------------------------------------------------
    save_monitor = _remote(MetadataStore.save_monitor)
    get_monitor = _remote(MetadataStore.get_monitor)
    list_monitors = _remote(MetadataStore.list_monitors)
    record_monitor_run = _remote(MetadataStore.record_monitor_run)
    list_windows = _remote(MetadataStore.list_windows)
    list_monitor_runs = _remote(MetadataStore.list_monitor_runs)
    raise_alert = _remote(MetadataStore.raise_alert)
    resolve_alert = _remote(MetadataStore.resolve_alert)
    get_alert = _remote(MetadataStore.get_alert)
    list_alerts = _remote(MetadataStore.list_alerts)
    record_delivery = _remote(MetadataStore.record_delivery)
    update_delivery = _remote(MetadataStore.update_delivery)
    list_deliveries = _remote(MetadataStore.list_deliveries)
    request_retrain = _remote(MetadataStore.request_retrain)
    update_retrain_request = _remote(MetadataStore.update_retrain_request)
    list_retrain_requests = _remote(MetadataStore.list_retrain_requests)
    record_labels_change = _remote(MetadataStore.record_labels_change)
    # auth ------------------------------------------------------------------------------------
    create_token = _remote(MetadataStore.create_token)
    list_tokens = _remote(MetadataStore.list_tokens)
    revoke_token = _remote(MetadataStore.revoke_token)
    set_model_owner = _remote(MetadataStore.set_model_owner)
    # audit -----------------------------------------------------------------------------------
    list_audit_events = _remote(MetadataStore.list_audit_events)


def httpx_quote(segment: str) -> str:
    # A path segment may hold any character of a name; '/' and '?' must not split it.
    from urllib.parse import quote

    return quote(segment, safe="")


@cache
def _whoami(url: str, token: str) -> Principal:
    data = _client(url, token).request("GET", "/me").json()
    return Principal(data["name"], data["role"], data.get("team"))


def whoami() -> Principal:
    """Who the server says the configured token belongs to (asked once per process)."""
    settings = load_settings()
    return _whoami(settings.url, settings.token)


class HttpArtifactStore(ArtifactStore):
    """Content-addressed blobs on the team server, streamed both ways, verified on read."""

    def __init__(self, url: str, token: str) -> None:
        self.uri = url
        self._client = _client(url, token)

    def exists(self, sha256: str) -> bool:
        r = self._client.http.head(f"/artifacts/{sha256}")
        if r.status_code in (200, 404):
            return r.status_code == 200
        raise_for_error(r)
        return False

    def _upload(self, sha256: str, content: Any) -> None:
        self._client.request(
            "PUT",
            f"/artifacts/{sha256}",
            content=content,
            headers={"Content-Type": "application/octet-stream"},
        )

    def put_file(self, path: str | os.PathLike[str]) -> tuple[str, int]:
        digest, size = sha256_file(path)
        if not self.exists(digest):
            with open(path, "rb") as f:  # httpx streams a file object in chunks
                self._upload(digest, f)
        return digest, size

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        digest = hashlib.sha256(data).hexdigest()
        if not self.exists(digest):
            self._upload(digest, data)
        return digest, len(data)

    def _corrupted(self, sha256: str, actual: str) -> ArtifactCorruptedError:
        return ArtifactCorruptedError(
            f"artifact {sha256[:12]} from {self.uri} arrived corrupted: "
            f"its content hashes to {actual[:12]}",
            hint="retry; if it persists the blob on the server is damaged",
            details={"expected": sha256, "actual": actual},
        )

    def get_bytes(self, sha256: str) -> bytes:
        data = b"".join(self._client.stream(f"/artifacts/{sha256}"))
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise self._corrupted(sha256, actual)
        return data

    def get_file(self, sha256: str, dest: str | os.PathLike[str]) -> Path:
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.tmp-{uuid.uuid4().hex}")
        h = hashlib.sha256()
        try:
            with open(tmp, "wb") as out:
                for chunk in self._client.stream(f"/artifacts/{sha256}"):
                    h.update(chunk)
                    out.write(chunk)
            if h.hexdigest() != sha256:
                raise self._corrupted(sha256, h.hexdigest())
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
        return dest


def remote_store(url: str, token: str) -> MetadataStore:
    return HttpMetadataStore(url, token)


__all__ = ["HttpArtifactStore", "HttpMetadataStore", "raise_for_error", "remote_store", "whoami"]
