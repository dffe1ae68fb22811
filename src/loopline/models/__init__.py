"""Models: flavors, signatures and safe loading.

from loopline.models import infer_signature, load_model, save_model

package = save_model(clf, store, signature=infer_signature(X, y))
model = load_model(store, package.sha256)  # every file verified before it is unpickled
model.predict(X_new)                        # X_new checked against the signature first
"""

from loopline.models._frames import TabularData
from loopline.models._package import MODEL_FORMAT, LoadedModel, ModelPackage, load_model, save_model
from loopline.models._signature import ColumnSpec, OutputSpec, Signature, infer_signature

__all__ = [
    "MODEL_FORMAT",
    "ColumnSpec",
    "LoadedModel",
    "ModelPackage",
    "OutputSpec",
    "Signature",
    "TabularData",
    "infer_signature",
    "load_model",
    "save_model",
]
