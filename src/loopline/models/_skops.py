"""scikit-learn-API models through skops, with an allow-list of the types a file needs.

skops stores an estimator as a schema plus arrays, and `skops.io.load` only builds the types
it is told to trust (beyond its own defaults: sklearn estimators, numpy, builtins). At save
time the types the file needs beyond those defaults are listed (`get_untrusted_types` on the
dumped bytes); that sorted list is recorded in the manifest and card as `trusted_types`, and
loading passes exactly that list as `trusted=` after checking the file needs nothing more.

A type is only acceptable if it comes from a library Loopline knows (`LIBRARY_ROOTS`): a
class of the author's own (an estimator subclass, a custom transformer) is their code, and
would run at load and predict time. Such a model is not "safe" whatever its format, so it
needs the pickle opt-in (`unsafe_pickle=True`) and runs in a credential-free child process.
The same rule holds when loading, so a hand-written manifest cannot trust more.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from loopline.errors import LooplineError

# Modules whose classes a safely stored model may need. Their code is installed by the
# person who loads the model, not shipped with it.
LIBRARY_ROOTS = frozenset({"sklearn", "numpy", "scipy", "lightgbm", "xgboost", "collections"})


class Unsupported(Exception):
    """skops cannot store this model safely; the message says why."""


class UnsafeModelError(LooplineError):
    """Loading was refused because it would run code the model's author chose."""

    code = "unsafe_model"
    http_status = 422


# skops builds its default allow-list at import by walking every scikit-learn module
# (`sklearn.utils.all_estimators`), and that walk imports scikit-learn's array-API shim for
# torch, which imports torch itself whenever torch is installed: 4-5 s and ~300 MB in every
# process that loads a model (a serving worker, a batch job), for a library no estimator
# needs. The walk skips a module that fails to import, so the shim is marked absent for the
# duration of the import only; with torch already imported there is nothing to save.
_TORCH_SHIM = "sklearn.externals.array_api_compat.torch"


def _sio() -> Any:
    if "skops.io" in sys.modules:
        return sys.modules["skops.io"]
    shimmed = "torch" not in sys.modules and _TORCH_SHIM not in sys.modules
    if shimmed:
        sys.modules[_TORCH_SHIM] = None  # type: ignore[assignment]
    try:
        return importlib.import_module("skops.io")
    except ImportError:
        raise LooplineError(
            "skops is not installed here; it reads and writes scikit-learn models safely",
            hint="pip install 'skops>=0.10' (a dependency of loopline)",
        ) from None
    finally:
        if shimmed:
            del sys.modules[_TORCH_SHIM]


def foreign(types: list[str]) -> list[str]:
    """The names in `types` that do not come from a known library."""
    return sorted(t for t in types if t.partition(".")[0] not in LIBRARY_ROOTS)


def dump(model: Any) -> tuple[bytes, list[str]]:
    """(skops bytes, sorted type allow-list); `Unsupported` if skops cannot hold the model or
    the model needs classes from outside the known libraries."""
    sio = _sio()
    try:
        data = bytes(sio.dumps(model))
        types = sorted({str(t) for t in sio.get_untrusted_types(data=data)})
    except Exception as exc:  # skops raises many types for what it does not support
        raise Unsupported(f"skops cannot store it ({type(exc).__name__}: {exc})") from None
    custom = foreign(types)
    if custom:
        raise Unsupported(f"it needs classes from outside the known libraries: {custom}")
    return data, types


def needed_types(data: bytes, model: str) -> list[str]:
    """The types the skops file `data` needs beyond skops' defaults, read without loading."""
    try:
        return sorted({str(t) for t in _sio().get_untrusted_types(data=data)})
    except Exception as exc:
        raise LooplineError(
            f"model {model} is not a readable skops file: {type(exc).__name__}: {exc}",
            hint="re-log the model; it was not loaded",
        ) from None


def load(data: bytes, trusted: Any, model: str) -> Any:
    """The model in the skops file `data`, trusting exactly the recorded `trusted` list."""
    if not isinstance(trusted, list) or not all(isinstance(t, str) for t in trusted):
        raise UnsafeModelError(
            f"model {model} has no valid trusted_types list in its manifest; it was not loaded",
            hint="re-log it with run.log_model(model)",
        )
    custom = foreign(trusted)
    if custom:
        raise UnsafeModelError(
            f"model {model} trusts classes from outside the known libraries ({custom}); "
            "it was not loaded",
            hint="models with custom classes must be logged with unsafe_pickle=True "
            "and loaded with allow_unsafe_pickle=True",
        )
    sio = _sio()
    from skops.io.exceptions import UntrustedTypesFoundException  # type: ignore[import-untyped]

    try:
        # skops itself refuses a file needing a type outside `trusted` before building
        # anything from it (a second scan of ours beforehand cost ~25 ms per load).
        return sio.loads(data, trusted=list(trusted))
    except UntrustedTypesFoundException:
        extra = sorted(set(needed_types(data, model)) - set(trusted))
        raise UnsafeModelError(
            f"model {model} needs types its manifest does not allow ({extra}); it was not loaded",
            hint="the file does not match what was recorded at log time: re-log the model",
        ) from None
    except (ImportError, AttributeError) as exc:
        raise LooplineError(
            f"model {model} cannot be loaded here: {exc}",
            hint="install the library versions the model was saved with (see its manifest)",
        ) from None
    except Exception as exc:  # a damaged file: skops raises what its zip and JSON readers do
        raise LooplineError(
            f"model {model} is not a readable skops file: {type(exc).__name__}: {exc}",
            hint="re-log the model; it was not loaded",
        ) from None


def load_cached(data: bytes, what: str) -> Any:
    """A skops value from the step cache: trusts what it needs if all from known libraries."""
    types = needed_types(data, what)
    return load(data, types, what)


__all__ = [
    "LIBRARY_ROOTS",
    "UnsafeModelError",
    "Unsupported",
    "dump",
    "foreign",
    "load",
    "load_cached",
    "needed_types",
]
