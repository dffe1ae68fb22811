"""Model packages: a model file plus a manifest, both content-addressed, loaded only if intact.

The manifest lists every file with its sha256 and size, and the manifest's own sha256 is the
model's identity. Loading reads the manifest (verified by the store), then verifies each file
against the manifest before any byte is deserialized: a tampered pickle is never unpickled.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib.metadata
import json
import platform
import re
import tempfile
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from loopline.errors import (
    ArtifactCorruptedError,
    InvalidInputError,
    NotFoundError,
    SchemaVersionError,
)
from loopline.models import _flavors
from loopline.models._frames import JsonScalar, TabularData, as_frame, json_scalars, records
from loopline.models._signature import MAX_CLASSES, OutputSpec, Signature, infer_signature

if TYPE_CHECKING:
    from loopline.store._artifacts import ArtifactStore

MODEL_FORMAT = "loopline-model/1"
EXAMPLE_ROWS = 5
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ModelPackage:
    """A saved model: `sha256` (its manifest's, the model's identity) and what the manifest says.

    `size` is the total size in bytes of the model's files (the manifest excluded).
    """

    sha256: str
    flavor: str
    size: int
    signature: Signature | None
    manifest: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A verified, deserialized model: `raw` is the library's own object."""

    sha256: str
    flavor: str
    signature: Signature | None
    raw: Any = field(repr=False)
    manifest: dict[str, Any] = field(repr=False)

    @cached_property
    def _proba_kind(self) -> str | None:
        return _flavors.proba_kind(self.raw)

    def _prepare(self, data: TabularData) -> pd.DataFrame:
        if self.signature is None:
            return as_frame(data)
        # Batch inputs often carry ids and labels next to the features: extras are dropped.
        frame = as_frame(data, self.signature.input_names)
        return self.signature.check(frame, allow_extra=True)

    def predict(self, data: TabularData) -> np.ndarray[Any, Any]:
        """Predictions for `data`, checked against the signature first (see `Signature.check`)."""
        return _flavors.predict(self.raw, self._prepare(data))

    def score(
        self, frame: pd.DataFrame
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any] | None]:
        """(labels or values, class probabilities or None) for a frame already conformed by
        `signature.check`. Classifiers with known classes run once: labels are the argmax of
        the probabilities, which is how their own `predict` decides."""
        kind = self._proba_kind
        output = self.signature.output if self.signature else None
        if kind is not None and output is not None and output.classes:
            proba = _flavors.predict_proba(self.raw, kind, frame)
            if proba.ndim == 2 and proba.shape[1] == len(output.classes):
                return np.asarray(output.classes, dtype=object)[proba.argmax(axis=1)], proba
        labels = _flavors.predict(self.raw, frame)
        if kind is None:
            return labels, None
        return labels, _flavors.predict_proba(self.raw, kind, frame)

    def predict_proba(self, data: TabularData) -> np.ndarray[Any, Any]:
        """Class probabilities, one column per class; `InvalidInputError` for non-classifiers."""
        kind = self._proba_kind
        if kind is None:
            raise InvalidInputError(
                f"model {self.sha256[:12]} ({self.manifest.get('model_class')}) "
                "does not give class probabilities",
                hint="call predict(); only classifiers have predict_proba",
            )
        return _flavors.predict_proba(self.raw, kind, self._prepare(data))


def _example_signature(model: Any, example: pd.DataFrame) -> Signature:
    try:
        predictions = _flavors.predict(model, example)
    except Exception as exc:  # the user's model on the user's rows: any failure is theirs
        raise InvalidInputError(
            f"the model cannot predict on input_example: {type(exc).__name__}: {exc}",
            hint="pass rows shaped like the training data, or pass signature= instead",
        ) from exc
    signature = infer_signature(example, predictions=predictions)
    labels = _known_classes(model, signature.output)
    if signature.output is None or labels is None:
        return signature
    output = dataclasses.replace(signature.output, kind="classification", classes=labels)
    return dataclasses.replace(signature, output=output)


def _known_classes(model: Any, output: OutputSpec | None) -> tuple[JsonScalar, ...] | None:
    # A handful of example rows rarely shows every class; the fitted model knows them all.
    if output is None:
        return None
    classes = getattr(model, "classes_", None)
    if classes is not None:
        return json_scalars(list(classes)) if len(classes) <= MAX_CLASSES else None
    # Boosters with a binary or softprob objective are trained on labels 0..k-1 and predict
    # probabilities (of class 1 only, for binary).
    objective = _flavors.proba_kind(model)
    if objective == "binary":
        return (0, 1)
    if objective == "multi":
        return tuple(range(output.width))
    return None


def _versions(flavor: str, model: Any, serialization: str) -> dict[str, str]:
    versions = {"numpy": np.__version__, "pandas": pd.__version__}
    wanted = ["scikit-learn"] + (["joblib"] if serialization == _flavors.JOBLIB else [])
    for dist in wanted:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[dist] = importlib.metadata.version(dist)
    library = _flavors.library_version(flavor, model)
    if library is not None:
        versions[library[0]] = library[1]
    return versions


def save_model(
    model: Any,
    store: ArtifactStore,
    *,
    signature: Signature | None = None,
    input_example: TabularData | None = None,
) -> ModelPackage:
    """Store `model` and its manifest in `store`; the returned sha256 loads it back.

    The flavor is detected (sklearn, lightgbm, xgboost, or generic for any object with
    `predict`). Without a `signature`, one is inferred from `input_example` and the model's
    predictions on it; with both, the example is checked against the signature.
    """
    flavor, serialization = _flavors.detect(model)
    if serialization == _flavors.JOBLIB and type(model).__module__ == "__main__":
        warnings.warn(
            f"{type(model).__qualname__} is defined in __main__: pickle stores classes by "
            "import path, so the model will only load where __main__ defines it too; "
            "move the class into an importable module",
            UserWarning,
            stacklevel=2,
        )
    example = None
    if input_example is not None:
        names = signature.input_names if signature is not None else None
        example = as_frame(input_example, names).head(EXAMPLE_ROWS)
        if signature is None:
            signature = _example_signature(model, example)
        else:
            example = signature.check(example)
    with tempfile.TemporaryDirectory(prefix="loopline-model-") as folder:
        path = _flavors.write(model, serialization, Path(folder))
        digest, size = store.put_file(path)
    model_type = type(model)
    manifest: dict[str, Any] = {
        "format": MODEL_FORMAT,
        "flavor": flavor,
        "serialization": serialization,
        "model_class": f"{model_type.__module__}.{model_type.__qualname__}",
        "files": {path.name: {"sha256": digest, "size": size}},
        "signature": None if signature is None else signature.to_dict(),
        "input_example": None if example is None else records(example, EXAMPLE_ROWS),
        "python_version": platform.python_version(),
        "library_versions": _versions(flavor, model, serialization),
        "created_at": datetime.now(UTC).isoformat(),
    }
    text = json.dumps(manifest, sort_keys=True, separators=(",", ":"), allow_nan=False)
    sha256, _ = store.put_bytes(text.encode("utf-8"))
    return ModelPackage(sha256, flavor, size, signature, manifest)


def _not_a_model(sha256: str, why: str) -> InvalidInputError:
    return InvalidInputError(
        f"artifact {sha256[:12]} is not a Loopline model: {why}",
        hint="pass the sha256 that save_model (or log_model) returned",
    )


def _read_manifest(store: ArtifactStore, sha256: str) -> dict[str, Any]:
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
        raise _not_a_model(sha256, "its content is not a JSON manifest") from None
    if not isinstance(manifest, dict) or not str(manifest.get("format", "")).startswith(
        "loopline-model/"
    ):
        raise _not_a_model(sha256, "it has no 'loopline-model/…' format marker")
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


def _model_file(manifest: dict[str, Any], sha256: str) -> tuple[str, str, int]:
    name = _flavors.FILENAMES[manifest["serialization"]]
    files = manifest.get("files")
    entry = files.get(name) if isinstance(files, dict) else None
    if (
        not isinstance(entry, dict)
        or not isinstance(entry.get("sha256"), str)
        or not _SHA256.fullmatch(entry["sha256"])
        or not isinstance(entry.get("size"), int)
    ):
        raise _not_a_model(sha256, f"its manifest lists no valid {name!r} file")
    return name, entry["sha256"], entry["size"]


def _file_corrupted(model: str, name: str, expected: str, actual: str) -> ArtifactCorruptedError:
    return ArtifactCorruptedError(
        f"file {name!r} of model {model[:12]} is corrupted: its content hashes to "
        f"{actual[:12]}, the manifest says {expected[:12]}",
        hint="restore the blob from a backup or re-save the model; it was not loaded",
        details={"model": model, "file": name, "expected": expected, "actual": actual},
    )


def _read_verified(store: ArtifactStore, model: str, name: str, sha256: str, size: int) -> bytes:
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


def load_model(store: ArtifactStore, sha256: str) -> LoadedModel:
    """The model whose manifest has `sha256`, every file verified before it is deserialized.

    Raises `ArtifactCorruptedError` naming the file and model when a hash does not match,
    `NotFoundError` when a blob is missing, and `InvalidInputError` / `SchemaVersionError`
    when the artifact is not a model this version of Loopline can read.
    """
    manifest = _read_manifest(store, sha256)
    signature_dict = manifest.get("signature")
    signature = None if signature_dict is None else Signature.from_dict(signature_dict)
    name, file_sha256, size = _model_file(manifest, sha256)
    data = _read_verified(store, sha256, name, file_sha256, size)
    raw = _flavors.read(manifest["serialization"], data, sha256[:12])
    return LoadedModel(sha256, manifest["flavor"], signature, raw, manifest)


__all__ = ["MODEL_FORMAT", "LoadedModel", "ModelPackage", "load_model", "save_model"]
