"""Data artifacts (prompt templates, retrieval indexes) as registry versions.

They are stored as Loopline model packages of a data flavor (`prompt`, `embedding_index`):
one file plus a manifest, both content-addressed. Registering one goes through a tracked run
and `register_model`, so aliases, approvals, gates, rollback, lineage and the audit log apply
to them unchanged, and every load re-checks the sha256 of the manifest and the file.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from loopline.errors import ConflictError, InvalidInputError, NotFoundError
from loopline.models import FLAVOR_SERIALIZATIONS, MODEL_FORMAT, SERIALIZATION_FILENAMES
from loopline.registry import get_version, load_model, model_card, register_model
from loopline.store import ModelVersion, open_artifact_store, open_metadata_store


def save_package(
    flavor: str, data: bytes, meta: Mapping[str, Any] | None = None
) -> tuple[str, int]:
    """Store `data` as a package of a data `flavor`; returns (manifest sha256, data size)."""
    serialization = FLAVOR_SERIALIZATIONS[flavor][0]
    artifacts = open_artifact_store()
    digest, size = artifacts.put_bytes(data)
    manifest: dict[str, Any] = {
        "format": MODEL_FORMAT,
        "flavor": flavor,
        "serialization": serialization,
        "model_class": f"loopline.llm.{flavor}",
        "files": {SERIALIZATION_FILENAMES[serialization]: {"sha256": digest, "size": size}},
        "signature": None,
        "input_example": None,
        "python_version": platform.python_version(),
        "library_versions": {},
        "created_at": datetime.now(UTC).isoformat(),
        "meta": dict(meta or {}),
    }
    text = json.dumps(manifest, sort_keys=True, separators=(",", ":"), allow_nan=False)
    sha256, _ = artifacts.put_bytes(text.encode("utf-8"))
    return sha256, size


def check_name_flavor(name: str, flavor: str) -> None:
    """Refuse to mix kinds under one registered name (a prompt cannot follow a model)."""
    store = open_metadata_store()
    try:
        versions = store.list_versions(name, limit=None)
    except NotFoundError:
        return
    other = sorted({v.flavor for v in versions} - {flavor})
    if other:
        raise ConflictError(
            f"registered name {name!r} already holds {', '.join(other)} versions, not {flavor}",
            hint=f"register the {flavor} under another name",
        )


def register_package(
    name: str,
    flavor: str,
    data: bytes,
    *,
    experiment: str,
    params: Mapping[str, str | int | float | bool | None],
    metrics: Mapping[str, float] | None = None,
    meta: Mapping[str, Any] | None = None,
    card: Mapping[str, Any] | None = None,
) -> ModelVersion:
    """Log `data` from a tracked run and register it as the next version of `name`."""
    from loopline.tracking import start_run

    check_name_flavor(name, flavor)
    with start_run(
        experiment=experiment, params=dict(params), tags={"loopline.kind": flavor}
    ) as run:
        if metrics:
            run.log_metrics(dict(metrics))
        sha256, size = save_package(flavor, data, meta)
        open_metadata_store().record_artifact(
            run.id, flavor, "model", sha256, size, {"flavor": flavor}
        )
    store = open_metadata_store()
    record = store.get_run(run.id)
    base = model_card(record, store.run_datasets(run.id), record.metrics)
    base["registered_by_kind"] = flavor
    return register_model(f"runs:/{run.id}/{flavor}", name, card={**base, **dict(card or {})})


def load_package(uri: str, flavor: str, label: str) -> tuple[ModelVersion, bytes]:
    """(version, verified bytes) of the `models:/` URI, refused unless it is a `flavor`."""
    version = get_version(uri)
    if version.flavor != flavor:
        raise InvalidInputError(
            f"{uri} is a {version.flavor} version, not a {label}",
            hint=f"pass the URI of a registered {label}",
        )
    loaded = load_model(version.uri)  # sha256 of manifest and file checked here
    if not isinstance(loaded.raw, bytes):
        raise InvalidInputError(f"{uri} did not load as data", hint="re-register it")
    return version, loaded.raw


__all__ = ["check_name_flavor", "load_package", "register_package", "save_package"]
