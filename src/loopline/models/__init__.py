"""Models: flavors, signatures and safe loading.

from loopline.models import infer_signature, load_model, save_model

package = save_model(clf, store, signature=infer_signature(X, y))
model = load_model(store, package.sha256)  # every file verified before it is read
model.predict(X_new)                        # X_new checked against the signature first

Loading never runs the model author's code by default: estimators are stored with skops and a
recorded type allow-list, boosters natively. Pickles need `unsafe_pickle=True` to be saved and
`allow_unsafe_pickle=True` (or LOOPLINE_ALLOW_UNSAFE_PICKLE=1) to be loaded, and then run in a
child process without credentials. `verify_package` checks a model's files, reading nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loopline.models._flavors import FILENAMES as SERIALIZATION_FILENAMES
    from loopline.models._flavors import SERIALIZATIONS as FLAVOR_SERIALIZATIONS
    from loopline.models._frames import TabularData
    from loopline.models._frames import family as dtype_family
    from loopline.models._manifest import package_facts, read_facts, verify_package
    from loopline.models._package import (
        MODEL_FORMAT,
        LoadedModel,
        ModelPackage,
        load_model,
        save_model,
    )
    from loopline.models._sandbox import ALLOW_ENV as ALLOW_UNSAFE_PICKLE_ENV
    from loopline.models._signature import ColumnSpec, OutputSpec, Signature, infer_signature
    from loopline.models._skops import UnsafeModelError


# Each name loads only its own module, on first use: `import loopline.models` (every CLI
# command that touches the registry) costs nothing until a model is read or written.
_LAZY = {
    # flavor -> the serializations it may be stored in (the first is the default), and
    # serialization -> its file name inside a package: what a data package's manifest holds
    "FLAVOR_SERIALIZATIONS": ("loopline.models._flavors", "SERIALIZATIONS"),
    "SERIALIZATION_FILENAMES": ("loopline.models._flavors", "FILENAMES"),
    "TabularData": ("loopline.models._frames", "TabularData"),
    "dtype_family": ("loopline.models._frames", "family"),  # int, float, bool, string, ...
    "package_facts": ("loopline.models._manifest", "package_facts"),
    "read_facts": ("loopline.models._manifest", "read_facts"),
    "verify_package": ("loopline.models._manifest", "verify_package"),
    "MODEL_FORMAT": ("loopline.models._package", "MODEL_FORMAT"),
    "LoadedModel": ("loopline.models._package", "LoadedModel"),
    "ModelPackage": ("loopline.models._package", "ModelPackage"),
    "load_model": ("loopline.models._package", "load_model"),
    "save_model": ("loopline.models._package", "save_model"),
    "ALLOW_UNSAFE_PICKLE_ENV": ("loopline.models._sandbox", "ALLOW_ENV"),
    "ColumnSpec": ("loopline.models._signature", "ColumnSpec"),
    "OutputSpec": ("loopline.models._signature", "OutputSpec"),
    "Signature": ("loopline.models._signature", "Signature"),
    "infer_signature": ("loopline.models._signature", "infer_signature"),
    "UnsafeModelError": ("loopline.models._skops", "UnsafeModelError"),
}


def __getattr__(name: str) -> Any:
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module 'loopline.models' has no attribute {name!r}")
    value = getattr(importlib.import_module(where[0]), where[1])
    globals()[name] = value  # later lookups skip __getattr__
    return value


__all__ = [
    "ALLOW_UNSAFE_PICKLE_ENV",
    "FLAVOR_SERIALIZATIONS",
    "MODEL_FORMAT",
    "SERIALIZATION_FILENAMES",
    "ColumnSpec",
    "LoadedModel",
    "ModelPackage",
    "OutputSpec",
    "Signature",
    "TabularData",
    "UnsafeModelError",
    "dtype_family",
    "infer_signature",
    "load_model",
    "package_facts",
    "read_facts",
    "save_model",
    "verify_package",
]
