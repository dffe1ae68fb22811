"""The model registry: register immutable versions, resolve URIs, load verified models,
approve, roll back, and answer "which data and commit made the model in production?"."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from loopline._renamed import renamed_keywords
from loopline.config import current_user
from loopline.errors import ConflictError, InvalidInputError
from loopline.registry._evaluate import Evaluation, evaluate_version
from loopline.registry._uri import ModelRef, parse_model_uri
from loopline.store import (
    AliasMove,
    Approval,
    MetadataStore,
    ModelVersion,
    open_artifact_store,
    open_metadata_store,
)
from loopline.tracking import ModelInfo
from loopline.tracking import load_model as load_run_model

if TYPE_CHECKING:
    from loopline.models import LoadedModel

# `loopline.models` (pandas, scikit-learn, skops) is imported inside the functions that load
# or read packages: lineage, approve and rollback from the CLI stay at store-lookup speed.


def _store() -> MetadataStore:
    return open_metadata_store()


def _run_source(source: str | ModelInfo) -> tuple[str, str]:
    if isinstance(source, ModelInfo):
        return source.run_id, source.name
    if isinstance(source, str) and source.startswith("runs:/") and source.count("/") >= 2:
        run_id, _, path = source[len("runs:/") :].partition("/")
        return run_id, path
    raise InvalidInputError(
        f"cannot register {source!r}: not a logged model",
        hint="pass runs:/<run_id>/<name> or the ModelInfo returned by run.log_model",
    )


def model_card(run: Any, datasets: Sequence[Any], metrics: dict[str, float]) -> dict[str, Any]:
    """A starting model card: filled from the record, meant to be edited by the owner."""
    return {
        "intended_use": "",
        "limitations": "",
        "training_data": [
            {
                "name": u.name,
                "role": u.role,
                "fingerprint": u.dataset.fingerprint,
                "rows": u.dataset.n_rows,
            }
            for u in datasets
        ],
        "evaluation_summary": {k: round(v, 6) for k, v in sorted(metrics.items())},
        "trained_by": run.lineage.user,
        "code_commit": run.lineage.git_commit,
    }


# Last release's keywords, `name=` for the model and `to_version=` for the version
# (docs/vocabulary.md §6, §8), work for one more release: see `renamed_keywords`.
@renamed_keywords(name="model")
def register_model(
    source: str | ModelInfo, model: str, *, card: dict[str, Any] | None = None
) -> ModelVersion:
    """Register a run's logged model as the next immutable version of `model`."""
    run_id, path = _run_source(source)
    store = _store()
    artifact = store.get_artifact(run_id, path)
    if artifact.kind != "model":
        raise InvalidInputError(
            f"runs:/{run_id}/{path} is a {artifact.kind} artifact, not a model",
            hint="register what run.log_model(...) logged",
        )
    run = store.get_run(run_id)
    if run.status == "running":
        raise ConflictError(
            f"run {run.id[:8]} is still running", hint="register its model after the run ends"
        )
    from loopline.models import read_facts

    # The serialization facts come from the manifest, not the caller: an approver (and the
    # store's alias policy) must see an opted-in pickle whatever the card passed says.
    facts = read_facts(open_artifact_store(), artifact.sha256)
    base = card if card is not None else model_card(run, store.run_datasets(run.id), run.metrics)
    return store.create_version(
        model,
        run_id=run.id,
        artifact_path=path,
        sha256=artifact.sha256,
        flavor=str(artifact.meta.get("flavor", "unknown")),
        signature=artifact.meta.get("signature"),
        metrics=run.metrics,
        git_commit=run.lineage.git_commit,
        created_by=current_user(),
        card={**base, **facts},
    )


def get_version(uri: str | ModelRef) -> ModelVersion:
    """The version a `models:/` URI points at now."""
    ref = parse_model_uri(uri) if isinstance(uri, str) else uri
    store = _store()
    if ref.alias is not None:
        return store.get_version_by_alias(ref.name, ref.alias)
    if ref.version == 0:
        latest = store.get_model(ref.name).latest_version
        assert latest is not None, "a registered model always has a version"
        return store.get_version(ref.name, latest)
    assert ref.version is not None
    return store.get_version(ref.name, ref.version)


@renamed_keywords(name="model")
def list_versions(
    model: str, *, limit: int | None = 50, before: int | None = None
) -> list[ModelVersion]:
    """Versions of `model`, newest first: the latest `limit` (1 to 1,000, the store's
    default page 50; None: every one), or those numbered below `before` — the next page is
    `before=page[-1].version`."""
    return _store().list_versions(model, limit=limit, before=before)


def load_model(uri: str, *, allow_unsafe_pickle: bool | None = None) -> LoadedModel:
    """Load `models:/name@alias`, `models:/name/N` or `runs:/id/name`, sha256-verified.

    Nothing the model's author wrote runs by default: a version logged with
    `unsafe_pickle=True` also needs `allow_unsafe_pickle=True` here (None: the
    `LOOPLINE_ALLOW_UNSAFE_PICKLE` variable decides) and then runs in a child process
    without credentials."""
    if isinstance(uri, str) and uri.startswith("runs:/"):
        return load_run_model(uri, allow_unsafe_pickle=allow_unsafe_pickle)
    from loopline.models import load_model as load_package

    version = get_version(uri)
    return load_package(
        open_artifact_store(), version.sha256, allow_unsafe_pickle=allow_unsafe_pickle
    )


def verify_version(version: ModelVersion | str) -> dict[str, Any]:
    """Check every file of a version (a `ModelVersion` or a `models:/` URI) against its
    sha256 and size without deserializing anything; returns the verified manifest.

    Raises `ArtifactCorruptedError` naming the tampered file, `NotFoundError` for a missing
    blob. A gate can call this instead of loading a candidate it must not execute."""
    from loopline.models import verify_package

    resolved = get_version(version) if isinstance(version, str) else version
    return verify_package(open_artifact_store(), resolved.sha256)


def evaluate(uri: str, data: Any, target: str, *, slices: Sequence[str] = ()) -> Evaluation:
    """Evaluate the version `uri` points at on `data` and store the result on it."""
    version = get_version(uri)
    return evaluate_version(version, load_model(version.uri), data, target, slices)


@renamed_keywords(name="model")
def approve(
    model: str, version: int, *, role: str = "approver", comment: str | None = None
) -> Approval:
    """Approve a version. The person who registered it cannot approve it (the store
    refuses it, so the rule holds for remote clients too); on the team server the
    approval's role is the approver's token role, whatever `role` says."""
    return _store().add_approval(
        model, version, approver=current_user(), role=role, comment=comment
    )


@renamed_keywords(name="model", to_version="version")
def rollback(
    model: str,
    alias: str = "production",
    version: int | None = None,
    *,
    reason: str | None = None,
) -> tuple[AliasMove, float]:
    """Point `alias` back at its previous holder (or at `version`). Returns (move, seconds)."""
    t0 = time.perf_counter()
    if version is not None:
        _verify(model, version)
    move = _store().rollback_alias(
        model, alias, actor=current_user(), version=version, reason=reason
    )
    return move, time.perf_counter() - t0


def _verify(model: str, version: int) -> None:
    """Refuse a version whose stored files no longer match their sha256 (nothing is loaded)."""
    verify_version(_store().get_version(model, version))


def lineage(uri: str) -> dict[str, Any]:
    """Version → run → datasets (fingerprints) → commit → approvals → alias history."""
    version = get_version(uri)
    store = _store()
    run = store.get_run(version.run_id)
    return {
        "model": version.model,
        "version": version.version,
        "uri": version.uri,
        "sha256": version.sha256,
        "aliases": list(version.aliases),
        "registered_by": version.created_by,
        "registered_at": version.created_at,
        "run": {
            "id": run.id,
            "experiment": run.experiment,
            "status": run.status,
            "params": run.params,
            "metrics": run.metrics,
            "user": run.lineage.user,
        },
        "code": {
            "commit": run.lineage.git_commit,
            "dirty": run.lineage.git_dirty,
            "remote": run.lineage.git_remote,
            "python": run.lineage.python_version,
            "packages_sha256": run.lineage.packages_hash,
        },
        "datasets": [
            {
                "name": u.name,
                "role": u.role,
                "fingerprint": u.dataset.fingerprint,
                "rows": u.dataset.n_rows,
                "source": u.dataset.source,
            }
            for u in store.run_datasets(run.id)
        ],
        "approvals": [
            {"approver": a.approver, "role": a.role, "comment": a.comment, "at": a.at}
            for a in store.list_approvals(version.model, version.version)
        ],
        "gate_decisions": [
            {
                "id": d.id,
                "alias": d.alias,
                "passed": d.passed,
                "at": d.at,
                "failed": [r["rule"] for r in d.rules if r["verdict"] == "fail"],
            }
            for d in store.list_gate_decisions(version.model, version.version)
        ],
        "alias_history": [
            {
                "alias": m.alias,
                "from": m.from_version,
                "to": m.to_version,
                "action": m.action,
                "actor": m.actor,
                "at": m.at,
            }
            for m in store.alias_history(version.model)
            if version.version in (m.from_version, m.to_version)
        ],
        "deployments": [  # the rollouts that served this version, as champion or challenger
            {
                "id": d.id,
                "alias": d.alias,
                "strategy": d.strategy,
                "arm": "champion" if d.champion_version == version.version else "challenger",
                "status": d.status,
                "started_by": d.created_by,
                "at": d.created_at,
            }
            for d in store.list_deployments(version.model)
            if version.version in (d.champion_version, d.challenger_version)
        ],
    }


__all__ = [
    "approve",
    "evaluate",
    "get_version",
    "lineage",
    "list_versions",
    "load_model",
    "model_card",
    "register_model",
    "rollback",
    "verify_version",
]
