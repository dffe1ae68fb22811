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

from loopline.models._frames import TabularData
from loopline.models._manifest import package_facts, read_facts, verify_package
from loopline.models._package import MODEL_FORMAT, LoadedModel, ModelPackage, load_model, save_model
from loopline.models._sandbox import ALLOW_ENV as ALLOW_UNSAFE_PICKLE_ENV
from loopline.models._signature import ColumnSpec, OutputSpec, Signature, infer_signature
from loopline.models._skops import UnsafeModelError

__all__ = [
    "ALLOW_UNSAFE_PICKLE_ENV",
    "MODEL_FORMAT",
    "ColumnSpec",
    "LoadedModel",
    "ModelPackage",
    "OutputSpec",
    "Signature",
    "TabularData",
    "UnsafeModelError",
    "infer_signature",
    "load_model",
    "package_facts",
    "read_facts",
    "save_model",
    "verify_package",
]
