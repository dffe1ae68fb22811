"""Model packages: a model file plus a manifest, both content-addressed, loaded only if intact.

The manifest lists every file with its sha256 and size, and the manifest's own sha256 is the
model's identity. Loading reads the manifest (verified by the store), then verifies each file
against the manifest before any byte is deserialized: a tampered file is never read.

Loading never runs the model author's code by default. Estimators are stored with skops and
loaded trusting exactly the type allow-list recorded at save time; boosters in their native
formats. A pickle is written only with `save_model(..., unsafe_pickle=True)`, loaded only with
`load_model(..., allow_unsafe_pickle=True)` (or `LOOPLINE_ALLOW_UNSAFE_PICKLE=1`), and then
unpickled and called only in a child process without credentials (see `_sandbox`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.metadata
import json
import platform
import tempfile
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from loopline.errors import InvalidInputError
from loopline.models import _flavors, _sandbox, _skops
from loopline.models._frames import JsonScalar, TabularData, as_frame, json_scalars, records
from loopline.models._manifest import (
    MODEL_FORMAT,
    model_file,
    read_manifest,
    read_verified,
)
from loopline.models._signature import MAX_CLASSES, OutputSpec, Signature, infer_signature

if TYPE_CHECKING:
    from loopline.store.artifacts import ArtifactStore

EXAMPLE_ROWS = 5


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
    """A verified, deserialized model: `raw` is the library's own object, or for an opted-in
    pickle a `ChildModel` proxy whose calls run in a credential-free child process."""

    sha256: str
    flavor: str
    signature: Signature | None
    raw: Any = field(repr=False)
    manifest: dict[str, Any] = field(repr=False)

    @property
    def in_child_process(self) -> bool:
        """True for an opted-in pickle: `raw` is a proxy, the model runs in a child."""
        return isinstance(self.raw, _sandbox.ChildModel)

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
        self, frame: pd.DataFrame, *, typed_labels: bool = False
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any] | None]:
        """(labels or values, class probabilities or None) for a frame already conformed by
        `signature.check`. Classifiers with known classes run once: labels are the argmax of
        the probabilities, which is how their own `predict` decides. Those labels are Python
        objects, unless `typed_labels` and the classes share one type (int, float or bool):
        then a numpy array of that type, the same values without an object per row."""
        kind = self._proba_kind
        output = self.signature.output if self.signature else None
        if kind is not None and output is not None and output.classes:
            proba = _flavors.predict_proba(self.raw, kind, frame)
            if proba.ndim == 2 and proba.shape[1] == len(output.classes):
                classes = _class_array(output.classes, typed=typed_labels)
                return classes[proba.argmax(axis=1)], proba
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


def _class_array(classes: tuple[JsonScalar, ...], *, typed: bool) -> np.ndarray[Any, Any]:
    """The classes as an array to index with argmax: typed when asked and possible."""
    kinds = {type(c) for c in classes} if typed else set()
    if len(kinds) == 1:
        dtype = {int: np.int64, float: np.float64, bool: np.bool_}.get(kinds.pop())
        if dtype is not None:
            with contextlib.suppress(OverflowError):  # an int past int64 stays a Python int
                return np.asarray(classes, dtype=dtype)
    return np.asarray(classes, dtype=object)


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
    formats = {_flavors.JOBLIB: "joblib", _flavors.SKOPS: "skops"}
    wanted = ["scikit-learn", formats.get(serialization, "scikit-learn")]
    for dist in wanted:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[dist] = importlib.metadata.version(dist)
    library = _flavors.library_version(flavor, model)
    if library is not None:
        versions[library[0]] = library[1]
    return versions


def _pickle_refused(model: Any, why: str) -> InvalidInputError:
    return InvalidInputError(
        f"the {type(model).__name__} can only be stored as a pickle ({why}), and loading a "
        "pickle runs its author's code",
        hint="pass unsafe_pickle=True to log_model/save_model to store it anyway (it will "
        "only load with allow_unsafe_pickle=True, in a child process without credentials)",
    )


def _serialize(
    model: Any, serialization: str, unsafe_pickle: bool, folder: Path
) -> tuple[str, Path, list[str]]:
    """(serialization used, file written, skops type allow-list)."""
    if serialization == _flavors.SKOPS:
        try:
            data, types = _skops.dump(model)
        except _skops.Unsupported as exc:
            if not unsafe_pickle:
                raise _pickle_refused(model, str(exc)) from None
            serialization = _flavors.JOBLIB
        else:
            path = folder / _flavors.FILENAMES[_flavors.SKOPS]
            path.write_bytes(data)
            return serialization, path, types
    if serialization == _flavors.JOBLIB and not unsafe_pickle:
        raise _pickle_refused(model, "it is a custom model class, not a library's")
    if serialization == _flavors.JOBLIB and type(model).__module__ == "__main__":
        warnings.warn(
            f"{type(model).__qualname__} is defined in __main__: pickle stores classes by "
            "import path, so the model will only load where __main__ defines it too; "
            "move the class into an importable module",
            UserWarning,
            stacklevel=3,
        )
    return serialization, _flavors.write(model, serialization, folder), []


def save_model(
    model: Any,
    store: ArtifactStore,
    *,
    signature: Signature | None = None,
    input_example: TabularData | None = None,
    unsafe_pickle: bool = False,
) -> ModelPackage:
    """Store `model` and its manifest in `store`; the returned sha256 loads it back.

    The flavor is detected (sklearn, lightgbm, xgboost, or generic for any object with
    `predict`). Without a `signature`, one is inferred from `input_example` and the model's
    predictions on it; with both, the example is checked against the signature.

    Estimators are stored with skops, boosters natively. A model only pickle can hold (a
    generic model, an estimator with classes of its own) is refused unless `unsafe_pickle`
    is True; the manifest then records `"unsafe_pickle": true` for approvers and policies.
    """
    flavor, serialization = _flavors.detect(model)
    example = None
    if input_example is not None:
        names = signature.input_names if signature is not None else None
        example = as_frame(input_example, names).head(EXAMPLE_ROWS)
        if signature is None:
            signature = _example_signature(model, example)
        else:
            example = signature.check(example)
    with tempfile.TemporaryDirectory(prefix="loopline-model-") as folder:
        serialization, path, types = _serialize(model, serialization, unsafe_pickle, Path(folder))
        digest, size = store.put_file(path)
    model_type = type(model)
    manifest: dict[str, Any] = {
        "format": MODEL_FORMAT,
        "flavor": flavor,
        "serialization": serialization,
        "unsafe_pickle": serialization in _flavors.PICKLE_SERIALIZATIONS,
        "trusted_types": types,
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


def _check_pickle_opt_in(manifest: dict[str, Any], sha256: str, allow: bool | None) -> None:
    label = f"model {sha256[:12]} ({manifest.get('model_class', '?')})"
    if manifest.get("unsafe_pickle") is not True:
        raise _skops.UnsafeModelError(
            f"{label} is a pickle saved without the unsafe_pickle opt-in, so it was not loaded",
            hint="re-log it with run.log_model(model) (stored safely with skops), or, for a "
            "custom model class, re-log it with unsafe_pickle=True",
        )
    if not _sandbox.unsafe_pickle_allowed(allow):
        raise _skops.UnsafeModelError(
            f"{label} is a pickle logged with unsafe_pickle=True: loading it runs its "
            "author's code, so it was not loaded",
            hint="if you trust its author, pass allow_unsafe_pickle=True or set "
            f"{_sandbox.ALLOW_ENV}=1; it then runs in a child process without credentials",
        )


def load_model(
    store: ArtifactStore, sha256: str, *, allow_unsafe_pickle: bool | None = None
) -> LoadedModel:
    """The model whose manifest has `sha256`, every file verified before it is deserialized.

    skops files are loaded trusting exactly their recorded type allow-list; a pickle needs
    `allow_unsafe_pickle=True` (None: the `LOOPLINE_ALLOW_UNSAFE_PICKLE` variable decides)
    and then runs in a credential-free child process behind the returned `LoadedModel`.

    Raises `ArtifactCorruptedError` naming the file and model when a hash does not match,
    `NotFoundError` when a blob is missing, `UnsafeModelError` when loading would run code
    nobody opted in to, and `InvalidInputError` / `SchemaVersionError` when the artifact is
    not a model this version of Loopline can read.
    """
    manifest = read_manifest(store, sha256)
    serialization = manifest["serialization"]
    if serialization in _flavors.PICKLE_SERIALIZATIONS:
        _check_pickle_opt_in(manifest, sha256, allow_unsafe_pickle)
    signature_dict = manifest.get("signature")
    signature = None if signature_dict is None else Signature.from_dict(signature_dict)
    name, file_sha256, size = model_file(manifest, sha256)
    data = read_verified(store, sha256, name, file_sha256, size)
    if serialization in _flavors.PICKLE_SERIALIZATIONS:
        raw: Any = _sandbox.start(data, sha256[:12])
    elif serialization == _flavors.SKOPS:
        raw = _skops.load(data, manifest.get("trusted_types"), sha256[:12])
    else:
        raw = _flavors.read(serialization, data, sha256[:12])
    return LoadedModel(sha256, manifest["flavor"], signature, raw, manifest)


__all__ = [
    "MODEL_FORMAT",
    "LoadedModel",
    "ModelPackage",
    "load_model",
    "save_model",
]
