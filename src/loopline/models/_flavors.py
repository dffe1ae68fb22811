"""Flavors: which library a model comes from, and how to write, read and call it.

| flavor   | model types                                  | file                            |
|----------|----------------------------------------------|---------------------------------|
| sklearn  | any sklearn BaseEstimator, Pipelines too     | model.skops                     |
| lightgbm | LGBMModel (sklearn API) / lgb.Booster        | model.skops / model.txt         |
| xgboost  | XGBModel (sklearn API) / xgb.Booster         | model.skops / model.ubj         |
| generic  | anything else with a callable `predict`      | model.joblib (opt-in only)      |
| prompt   | a prompt template (loopline.llm)             | prompt.json                     |
| embedding_index | a retrieval index (loopline.llm)      | index.npz                       |

Boosters are stored in their library's own format, which is not pickle and stays readable
across library versions. scikit-learn-API estimators (LightGBM and XGBoost wrappers too) go
through skops with a recorded type allow-list (`loopline.models._skops`). Pickle (joblib) is
only written with `unsafe_pickle=True` — for generic models, and for estimators skops cannot
hold or that need classes of their own — and only ever unpickled in a credential-free child
process (`loopline.models._sandbox`). The data flavors (prompt, embedding_index) are never
deserialized here: `read` returns their verified bytes and `loopline.llm` parses them.
"""

from __future__ import annotations

import importlib
import json
import pickle
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loopline.errors import InvalidInputError, LooplineError

if TYPE_CHECKING:  # NumPy is imported where a model predicts: verifying files needs neither
    import numpy as np
    import pandas as pd

FLAVORS = ("sklearn", "lightgbm", "xgboost", "generic", "prompt", "embedding_index")
JOBLIB, SKOPS = "joblib", "skops"
LIGHTGBM_TEXT, XGBOOST_UBJ = "lightgbm-text", "xgboost-ubj"
PICKLE_SERIALIZATIONS = (JOBLIB,)  # run their author's code when loaded: opt-in, child only
PROMPT_JSON, INDEX_NPZ = "prompt-json", "index-npz"
DATA_SERIALIZATIONS = (PROMPT_JSON, INDEX_NPZ)  # plain data: read() returns the verified bytes
FILENAMES = {
    JOBLIB: "model.joblib",
    SKOPS: "model.skops",
    LIGHTGBM_TEXT: "model.txt",
    XGBOOST_UBJ: "model.ubj",
    PROMPT_JSON: "prompt.json",
    INDEX_NPZ: "index.npz",
}
SERIALIZATIONS = {
    "sklearn": (SKOPS, JOBLIB),
    "lightgbm": (SKOPS, JOBLIB, LIGHTGBM_TEXT),
    "xgboost": (SKOPS, JOBLIB, XGBOOST_UBJ),
    "generic": (JOBLIB,),
    "prompt": (PROMPT_JSON,),
    "embedding_index": (INDEX_NPZ,),
}
# flavor → (module to ask for __version__, distribution name to report)
_LIBRARIES = {
    "sklearn": ("sklearn", "scikit-learn"),
    "lightgbm": ("lightgbm", "lightgbm"),
    "xgboost": ("xgboost", "xgboost"),
}


def _loaded(module: str) -> Any:
    # An instance of a library's class can only exist once that library is imported, so
    # sys.modules answers "is this a LightGBM model?" without importing LightGBM to say no.
    return sys.modules.get(module)


def _require(module: str, model: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise LooplineError(
            f"model {model} needs {module}, which is not installed here",
            hint=f"pip install {module} in the environment that loads the model",
        ) from None


def _check_fitted(model: Any) -> None:
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(model)
    except NotFittedError:
        raise InvalidInputError(
            f"the {type(model).__name__} is not fitted", hint="call fit(...) before saving it"
        ) from None


def detect(model: Any) -> tuple[str, str]:
    """(flavor, preferred serialization) of `model`; `InvalidInputError` if it cannot be
    served. Estimators prefer skops; `save_model` falls back to joblib only on opt-in."""
    if isinstance(model, type):
        raise InvalidInputError(
            f"{model.__name__} is a class, not a fitted model",
            hint="pass the instance you fitted, e.g. save_model(clf.fit(X, y), store)",
        )
    lgb, xgb, sk = _loaded("lightgbm"), _loaded("xgboost"), _loaded("sklearn.base")
    if lgb is not None and isinstance(model, lgb.Booster):
        return "lightgbm", LIGHTGBM_TEXT
    if xgb is not None and isinstance(model, xgb.Booster):
        return "xgboost", XGBOOST_UBJ
    if sk is not None and isinstance(model, sk.BaseEstimator):
        _check_fitted(model)
        if lgb is not None and isinstance(model, lgb.LGBMModel):
            return "lightgbm", SKOPS
        if xgb is not None and isinstance(model, xgb.XGBModel):
            return "xgboost", SKOPS
        return "sklearn", SKOPS
    if callable(getattr(model, "predict", None)):
        return "generic", JOBLIB
    raise InvalidInputError(
        f"cannot save a {type(model).__name__}: it has no predict method",
        hint="save a fitted sklearn, LightGBM or XGBoost model, or any object with predict(df)",
    )


def library_version(flavor: str, model: Any) -> tuple[str, str] | None:
    """(distribution name, version) of the library the model comes from, if it has one."""
    top = type(model).__module__.partition(".")[0]  # generic: the package defining the class
    module, distribution = _LIBRARIES.get(flavor, (top, top))
    version = getattr(sys.modules.get(module), "__version__", None)
    return (distribution, version) if isinstance(version, str) else None


def write(model: Any, serialization: str, folder: Path) -> Path:
    """Serialize `model` into `folder` (native or joblib; skops bytes are written by the
    caller, who also records their type allow-list); returns the file written."""
    path = folder / FILENAMES[serialization]
    if serialization == LIGHTGBM_TEXT:
        path.write_text(model.model_to_string(), encoding="utf-8")
    elif serialization == XGBOOST_UBJ:
        path.write_bytes(bytes(model.save_raw("ubj")))
    else:
        import joblib

        try:
            joblib.dump(model, path)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise InvalidInputError(
                f"cannot serialize the {type(model).__name__}: {exc}",
                hint="a model must be picklable: keep lambdas, locks and open files out of it",
            ) from None
    return path


def read(serialization: str, data: bytes, model: str) -> Any:
    """The model in `data` (native formats and data flavors), which the caller has already
    checked against its sha256. Never unpickles: pickles are only read in a child process."""
    if serialization in DATA_SERIALIZATIONS:
        return data
    if serialization == LIGHTGBM_TEXT:
        lgb = _require("lightgbm", model)
        return lgb.Booster(model_str=data.decode("utf-8"))
    if serialization == XGBOOST_UBJ:
        xgb = _require("xgboost", model)
        booster = xgb.Booster()
        booster.load_model(bytearray(data))
        return booster
    raise AssertionError(f"{serialization} is not read in this process")  # pragma: no cover


def _booster_objective(raw: Any) -> str | None:
    lgb, xgb = _loaded("lightgbm"), _loaded("xgboost")
    if lgb is not None and isinstance(raw, lgb.Booster):
        objective = raw.params.get("objective")
        return {"binary": "binary", "multiclass": "multi", "multiclassova": "multi"}.get(objective)
    if xgb is not None and isinstance(raw, xgb.Booster):
        objective = json.loads(raw.save_config())["learner"]["objective"]["name"]
        return {"binary:logistic": "binary", "multi:softprob": "multi"}.get(objective)
    return None


def proba_kind(raw: Any) -> str | None:
    """How to get class probabilities from `raw`: "method", "binary", "multi", or None."""
    if callable(getattr(raw, "predict_proba", None)):
        return "method"
    return _booster_objective(raw)


def _input(raw: Any, frame: pd.DataFrame) -> Any:
    lgb, xgb, sk = _loaded("lightgbm"), _loaded("xgboost"), _loaded("sklearn.base")
    if xgb is not None and isinstance(raw, xgb.Booster):
        if raw.feature_names is None:  # trained on an array: names would fail validation
            return xgb.DMatrix(frame.to_numpy())
        return xgb.DMatrix(frame, enable_categorical=True)
    if lgb is not None and isinstance(raw, lgb.Booster):
        return frame  # the model text keeps pandas categories, so the frame is re-coded
    if (
        sk is not None
        and isinstance(raw, sk.BaseEstimator)
        and not hasattr(raw, "feature_names_in_")
    ):
        # Fitted on an array: sklearn warns about (and XGBoost rejects) named columns.
        return frame.to_numpy()
    return frame


def predict(raw: Any, frame: pd.DataFrame) -> np.ndarray[Any, Any]:
    """`raw`'s predictions on `frame` (already in the signature's columns and dtypes)."""
    import numpy as np

    return np.asarray(raw.predict(_input(raw, frame)))


def predict_proba(raw: Any, kind: str, frame: pd.DataFrame) -> np.ndarray[Any, Any]:
    """Class probabilities, one column per class, for a `kind` from `proba_kind`."""
    import numpy as np

    if kind == "method":
        return np.asarray(raw.predict_proba(_input(raw, frame)))
    scores = np.asarray(raw.predict(_input(raw, frame)))
    if kind == "binary":
        # Boosters return P(class 1) only; predict_proba's contract is one column per class.
        return np.column_stack([1.0 - scores, scores])
    return scores


__all__ = [
    "DATA_SERIALIZATIONS",
    "FILENAMES",
    "FLAVORS",
    "JOBLIB",
    "PICKLE_SERIALIZATIONS",
    "SERIALIZATIONS",
    "SKOPS",
    "detect",
    "library_version",
    "predict",
    "predict_proba",
    "proba_kind",
    "read",
    "write",
]
