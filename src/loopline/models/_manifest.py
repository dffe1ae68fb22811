"""Reading a model's manifest and verifying its files, without deserializing anything.

`verify_package` is what a gate or a rollback calls to prove a version is intact: every file
the manifest lists is read and checked against its sha256 and size, nothing is unpickled or
parsed. `package_facts` gives the serialization facts an approver (and the store's alias
policy) must see: the format, whether it is an opted-in pickle, and the skops allow-list.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

from loopline.errors import (
    ArtifactCorruptedError,
    InvalidInputError,
    NotFoundError,
    SchemaVersionError,
)
from loopline.models import _flavors

if TYPE_CHECKING:
    from loopline.store.artifacts import ArtifactStore

MODEL_FORMAT = "loopline-model/1"
_SHA256 = re.compile(r"[0-9a-f]{64}")


def not_a_model(sha256: str, why: str) -> InvalidInputError:
    return InvalidInputError(
        f"artifact {sha256[:12]} is not a Loopline model: {why}",
        hint="pass the sha256 that save_model (or log_model) returned",
    )


def read_manifest(store: ArtifactStore, sha256: str) -> dict[str, Any]:
    try:
        data = store.get_bytes(sha256)
    except ArtifactCorruptedError as exc:
        raise ArtifactCorruptedError(
            f"the manifest of model {sha256[:12]} is corrupted: {exc.message}",
            hint="restore the blob from a backup or re-save the model; it was not loaded",
            details={"model": sha256, "file": "manifest", **exc.details},
        ) from None
    try:
        manifest = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise not_a_model(sha256, "its content is not a JSON manifest") from None
    if not isinstance(manifest, dict) or not str(manifest.get("format", "")).startswith(
        "loopline-model/"
    ):
        raise not_a_model(sha256, "it has no 'loopline-model/…' format marker")
    if manifest["format"] != MODEL_FORMAT:
        raise SchemaVersionError(
            f"model {sha256[:12]} is in format {manifest['format']!r}; "
            f"this Loopline reads {MODEL_FORMAT!r}",
            hint="upgrade loopline to load models saved by a newer version",
        )
    flavor, serialization = manifest.get("flavor"), manifest.get("serialization")
    if flavor not in _flavors.FLAVORS or serialization not in _flavors.SERIALIZATIONS[flavor]:
        raise SchemaVersionError(
            f"model {sha256[:12]} has flavor {flavor!r} stored as {serialization!r}, "
            "which this Loopline cannot load",
            hint="upgrade loopline, or load the model where its flavor is supported",
        )
    return manifest


def model_file(manifest: dict[str, Any], sha256: str) -> tuple[str, str, int]:
    name = _flavors.FILENAMES[manifest["serialization"]]
    files = manifest.get("files")
    entry = files.get(name) if isinstance(files, dict) else None
    if (
        not isinstance(entry, dict)
        or not isinstance(entry.get("sha256"), str)
        or not _SHA256.fullmatch(entry["sha256"])
        or not isinstance(entry.get("size"), int)
    ):
        raise not_a_model(sha256, f"its manifest lists no valid {name!r} file")
    return name, entry["sha256"], entry["size"]


def _file_corrupted(model: str, name: str, expected: str, actual: str) -> ArtifactCorruptedError:
    return ArtifactCorruptedError(
        f"file {name!r} of model {model[:12]} is corrupted: its content hashes to "
        f"{actual[:12]}, the manifest says {expected[:12]}",
        hint="restore the blob from a backup or re-save the model; it was not loaded",
        details={"model": model, "file": name, "expected": expected, "actual": actual},
    )


def read_verified(store: ArtifactStore, model: str, name: str, sha256: str, size: int) -> bytes:
    try:
        data = store.get_bytes(sha256)
    except ArtifactCorruptedError as exc:
        raise _file_corrupted(model, name, sha256, str(exc.details.get("actual", "?"))) from None
    except NotFoundError as exc:
        raise NotFoundError(
            f"file {name!r} of model {model[:12]} is missing: {exc.message}", hint=exc.hint
        ) from None
    # Checked here too, not only by the store: the promise that unverified bytes are never
    # unpickled must hold for every ArtifactStore implementation, remote ones included.
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256 or len(data) != size:
        raise _file_corrupted(model, name, sha256, actual)
    return data


def package_facts(manifest: dict[str, Any]) -> dict[str, Any]:
    """`serialization`, `unsafe_pickle` (always a bool) and `trusted_types` (sorted names) of
    a manifest: what the model card shows and what alias policies read. A pickle is unsafe
    whether or not it was saved before the opt-in existed."""
    serialization = str(manifest.get("serialization", ""))
    types = manifest.get("trusted_types")
    listed = sorted(str(t) for t in types) if isinstance(types, list) else []
    return {
        "serialization": serialization,
        "unsafe_pickle": serialization in _flavors.PICKLE_SERIALIZATIONS,
        "trusted_types": listed,
    }


def read_facts(store: ArtifactStore, sha256: str) -> dict[str, Any]:
    """`package_facts` of the model whose manifest has `sha256` (the manifest only is read)."""
    return package_facts(read_manifest(store, sha256))


def verify_package(store: ArtifactStore, sha256: str) -> dict[str, Any]:
    """Check the manifest `sha256` and every file it lists against their sha256 and size,
    deserializing nothing; returns the manifest. Raises `ArtifactCorruptedError` naming the
    file, `NotFoundError` for a missing blob, `InvalidInputError` for a non-model."""
    manifest = read_manifest(store, sha256)
    model_file(manifest, sha256)  # the file the serialization needs is listed
    files = manifest["files"]
    for name in sorted(files):
        entry = files[name]
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("sha256"), str)
            or not _SHA256.fullmatch(entry["sha256"])
            or not isinstance(entry.get("size"), int)
        ):
            raise not_a_model(sha256, f"its manifest lists an invalid entry for {name!r}")
        read_verified(store, sha256, name, entry["sha256"], entry["size"])
    return manifest


__all__ = [
    "MODEL_FORMAT",
    "model_file",
    "not_a_model",
    "package_facts",
    "read_facts",
    "read_manifest",
    "read_verified",
    "verify_package",
]
