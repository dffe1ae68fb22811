from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import loopline.models
from loopline.errors import (
    ArtifactCorruptedError,
    InvalidInputError,
    NotFoundError,
    SchemaVersionError,
)
from loopline.models import LoadedModel, OutputSpec, infer_signature, load_model, save_model
from loopline.store import ArtifactStore, FsspecArtifactStore


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.Series[int]]:
    rng = np.random.default_rng(7)
    X = pd.DataFrame(
        {
            "tenure": rng.integers(0, 60, 120).astype("int64"),
            "spend": rng.normal(50, 10, 120),
            "calls": rng.poisson(2, 120).astype("float64"),
        }
    )
    y = ((X["spend"] > 50) ^ (X["tenure"] < 10)).astype("int64")
    return X, y


class ThresholdModel:
    """A model from no library: the generic flavor."""

    def __init__(self, column: str, threshold: float) -> None:
        self.column = column
        self.threshold = threshold

    def predict(self, df: pd.DataFrame) -> np.ndarray[Any, Any]:
        return (df[self.column] > self.threshold).astype("int64").to_numpy()


Trainer = Callable[[pd.DataFrame, "pd.Series[int]"], Any]
# One thread each: OpenMP pools spin against other processes on a busy CI box, and tiny
# models gain nothing from more.
LGB_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "num_leaves": 4,
    "min_data_in_leaf": 5,
    "num_threads": 1,
    "verbose": -1,
}
XGB_PARAMS = {"max_depth": 2, "nthread": 1}

TRAINERS: dict[str, tuple[str, Trainer]] = {
    "logistic": ("sklearn", lambda X, y: LogisticRegression().fit(X, y)),
    "pipeline": (
        "sklearn",
        lambda X, y: make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y),
    ),
    "forest": (
        "sklearn",
        lambda X, y: RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y),
    ),
    "lgbm_classifier": (
        "lightgbm",
        lambda X, y: lgb.LGBMClassifier(n_estimators=5, num_leaves=4, n_jobs=1, verbose=-1).fit(
            X, y
        ),
    ),
    "lgb_booster": (
        "lightgbm",
        lambda X, y: lgb.train(LGB_PARAMS, lgb.Dataset(X, y), num_boost_round=5),
    ),
    "xgb_classifier": (
        "xgboost",
        lambda X, y: xgb.XGBClassifier(n_estimators=5, max_depth=2, n_jobs=1).fit(X, y),
    ),
    "xgb_booster": (
        "xgboost",
        lambda X, y: xgb.train(
            {"objective": "binary:logistic", **XGB_PARAMS}, xgb.DMatrix(X, y), num_boost_round=5
        ),
    ),
    "generic": ("generic", lambda X, y: ThresholdModel("spend", 50.0)),
}


def native_predict(model: Any, X: pd.DataFrame) -> np.ndarray[Any, Any]:
    if isinstance(model, xgb.Booster):
        return np.asarray(model.predict(xgb.DMatrix(X)))
    return np.asarray(model.predict(X))


def blob_path(store: FsspecArtifactStore, sha256: str) -> Path:
    return Path(store.uri) / "sha256" / sha256[:2] / sha256


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


# every flavor round-trips ------------------------------------------------------------


@pytest.mark.parametrize("case", list(TRAINERS))
def test_save_load_predicts_the_same(
    case: str, data: tuple[pd.DataFrame, pd.Series[int]], store: FsspecArtifactStore
) -> None:
    X, y = data
    flavor, train = TRAINERS[case]
    model = train(X, y)
    signature = infer_signature(X, y)

    # A generic model is a class of the test's own: only a pickle holds it, so it needs both
    # opt-ins and runs in a child process (tests/security covers what that protects).
    pickled = flavor == "generic"
    package = save_model(model, store, signature=signature, input_example=X, unsafe_pickle=pickled)
    loaded = load_model(store, package.sha256, allow_unsafe_pickle=pickled)

    assert loaded.in_child_process == pickled
    assert package.manifest["unsafe_pickle"] == pickled
    assert package.flavor == loaded.flavor == flavor
    assert loaded.signature == package.signature == signature
    assert package.manifest["signature"] == signature.to_dict()
    np.testing.assert_array_equal(loaded.predict(X), native_predict(model, X))
    # Extra columns in a batch (ids, labels) are dropped; shuffled columns are reordered.
    batch = X[X.columns[::-1]].assign(customer_id=range(len(X)))
    np.testing.assert_array_equal(loaded.predict(batch), native_predict(model, X))


@pytest.mark.parametrize("case", ["logistic", "pipeline", "lgbm_classifier", "xgb_classifier"])
def test_predict_proba_matches_the_classifier(
    case: str, data: tuple[pd.DataFrame, pd.Series[int]], store: FsspecArtifactStore
) -> None:
    X, y = data
    model = TRAINERS[case][1](X, y)
    loaded = load_model(store, save_model(model, store).sha256)
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X))


@pytest.mark.parametrize("case", ["lgb_booster", "xgb_booster"])
def test_binary_boosters_give_one_probability_column_per_class(
    case: str, data: tuple[pd.DataFrame, pd.Series[int]], store: FsspecArtifactStore
) -> None:
    X, y = data
    model = TRAINERS[case][1](X, y)
    proba = load_model(store, save_model(model, store).sha256).predict_proba(X)
    p1 = native_predict(model, X)
    np.testing.assert_allclose(proba, np.column_stack([1 - p1, p1]))


def test_multiclass_booster_probabilities(
    data: tuple[pd.DataFrame, pd.Series[int]], store: FsspecArtifactStore
) -> None:
    X, _ = data
    y3 = pd.qcut(X["spend"], 3, labels=False)
    params = {"objective": "multi:softprob", "num_class": 3, **XGB_PARAMS}
    booster = xgb.train(params, xgb.DMatrix(X, y3), num_boost_round=3)
    proba = load_model(store, save_model(booster, store).sha256).predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


def test_models_without_probabilities_say_so(
    data: tuple[pd.DataFrame, pd.Series[int]], store: FsspecArtifactStore
) -> None:
    X, y = data
    loaded = load_model(store, save_model(LinearRegression().fit(X, y), store).sha256)
    with pytest.raises(InvalidInputError, match="does not give class probabilities"):
        loaded.predict_proba(X)


def test_array_trained_model_accepts_arrays_and_frames(
    data: tuple[pd.DataFrame, pd.Series[int]], store: FsspecArtifactStore
) -> None:
    X, y = data
    arr = X.to_numpy()
    model = xgb.XGBClassifier(n_estimators=3, max_depth=2, n_jobs=1).fit(arr, y)
    loaded = load_model(store, save_model(model, store, input_example=arr).sha256)
    assert loaded.signature is not None
    assert loaded.signature.input_names == ("0", "1", "2")
    np.testing.assert_array_equal(loaded.predict(arr), model.predict(arr))
    np.testing.assert_array_equal(loaded.predict(pd.DataFrame(arr)), model.predict(arr))


def test_categorical_codes_follow_training_categories(store: FsspecArtifactStore) -> None:
    rng = np.random.default_rng(3)
    plan = rng.choice(["basic", "plus", "pro"], 150)
    X = pd.DataFrame({"plan": pd.Categorical(plan), "spend": rng.normal(size=150)})
    y = (plan == "pro").astype("int64")
    model = lgb.LGBMClassifier(
        n_estimators=5, num_leaves=4, min_child_samples=5, n_jobs=1, verbose=-1
    )
    model.fit(X, y)
    loaded = load_model(store, save_model(model, store, signature=infer_signature(X, y)).sha256)
    # A JSON request carries plain strings, in whatever order values happen to appear.
    request = X.assign(plan=X["plan"].astype(str))
    np.testing.assert_array_equal(loaded.predict(request), model.predict(X))


# the manifest ------------------------------------------------------------------------


def test_manifest_describes_and_identifies_the_model(
    data: tuple[pd.DataFrame, pd.Series[int]], store: FsspecArtifactStore
) -> None:
    X, y = data
    model = lgb.train(LGB_PARAMS, lgb.Dataset(X, y), num_boost_round=3)
    package = save_model(model, store, input_example=X)

    stored = store.get_bytes(package.sha256)
    assert hashlib.sha256(stored).hexdigest() == package.sha256
    manifest = json.loads(stored)
    assert manifest == package.manifest
    assert manifest["format"] == "loopline-model/1"
    assert manifest["flavor"] == "lightgbm"
    assert manifest["serialization"] == "lightgbm-text"
    entry = manifest["files"]["model.txt"]
    assert store.get_bytes(entry["sha256"]).decode() == model.model_to_string()
    assert package.size == entry["size"]
    assert len(manifest["input_example"]) == 5
    assert manifest["input_example"][0]["tenure"] == int(X["tenure"].iloc[0])
    assert manifest["library_versions"]["lightgbm"] == lgb.__version__
    assert {"numpy", "pandas", "scikit-learn"} <= set(manifest["library_versions"])
    assert manifest["python_version"] == ".".join(map(str, sys.version_info[:3]))
    assert manifest["created_at"].endswith("+00:00")
    # Inferred from the example: a binary booster predicts P(class 1) for labels 0 and 1.
    assert package.signature is not None
    assert package.signature.output == OutputSpec("float64", "classification", (0, 1))


def test_inferred_signature_takes_classes_from_the_classifier(
    data: tuple[pd.DataFrame, pd.Series[int]], store: FsspecArtifactStore
) -> None:
    X, y = data
    one_class_rows = X[y == 1].head(5)
    package = save_model(LogisticRegression().fit(X, y), store, input_example=one_class_rows)
    assert package.signature is not None
    assert package.signature.output == OutputSpec("int64", "classification", (0, 1))
    y3 = pd.qcut(X["spend"], 3, labels=False)
    params = {"objective": "multi:softprob", "num_class": 3, **XGB_PARAMS}
    booster = xgb.train(params, xgb.DMatrix(X, y3), num_boost_round=2)
    package = save_model(booster, store, input_example=X)
    assert package.signature is not None
    assert package.signature.output == OutputSpec("float32", "classification", (0, 1, 2), 3)


def test_example_must_match_the_given_signature(
    data: tuple[pd.DataFrame, pd.Series[int]], store: FsspecArtifactStore
) -> None:
    X, y = data
    model = LogisticRegression().fit(X, y)
    with pytest.raises(InvalidInputError, match="column 'calls' is missing"):
        save_model(
            model, store, signature=infer_signature(X), input_example=X.drop(columns="calls")
        )


# safe loading ------------------------------------------------------------------------


def test_corrupted_model_file_is_refused(
    data: tuple[pd.DataFrame, pd.Series[int]], store: FsspecArtifactStore
) -> None:
    X, y = data
    package = save_model(LogisticRegression().fit(X, y), store)
    flip_a_byte(blob_path(store, package.manifest["files"]["model.skops"]["sha256"]))
    with pytest.raises(ArtifactCorruptedError) as info:
        load_model(store, package.sha256)
    assert f"file 'model.skops' of model {package.sha256[:12]} is corrupted" in str(info.value)
    assert info.value.details["model"] == package.sha256


def test_corrupted_manifest_is_refused(
    data: tuple[pd.DataFrame, pd.Series[int]], store: FsspecArtifactStore
) -> None:
    X, y = data
    package = save_model(LogisticRegression().fit(X, y), store)
    flip_a_byte(blob_path(store, package.sha256))
    with pytest.raises(ArtifactCorruptedError, match="manifest of model"):
        load_model(store, package.sha256)


class Detonator:
    """Unpickling this touches a file: proof that bytes were unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


class UnverifyingStore(FsspecArtifactStore):
    """A store that skips verification and hands out substituted bytes for one blob."""

    def __init__(self, uri: str, swap: str, payload: bytes) -> None:
        super().__init__(uri)
        self.swap, self.payload = swap, payload

    def get_bytes(self, sha256: str) -> bytes:
        return self.payload if sha256 == self.swap else super().get_bytes(sha256)


def test_unverified_bytes_are_never_unpickled(store: FsspecArtifactStore, tmp_path: Path) -> None:
    import joblib

    package = save_model(ThresholdModel("spend", 1.0), store, unsafe_pickle=True)
    marker = tmp_path / "unpickled"
    evil = tmp_path / "evil.joblib"
    joblib.dump(Detonator(marker), evil)
    file_sha = package.manifest["files"]["model.joblib"]["sha256"]
    lying: ArtifactStore = UnverifyingStore(store.uri, file_sha, evil.read_bytes())
    with pytest.raises(ArtifactCorruptedError, match=r"'model\.joblib'"):
        load_model(lying, package.sha256, allow_unsafe_pickle=True)
    assert not marker.exists()


def test_missing_model_file_is_named(
    data: tuple[pd.DataFrame, pd.Series[int]], store: FsspecArtifactStore
) -> None:
    X, y = data
    package = save_model(LogisticRegression().fit(X, y), store)
    os.remove(blob_path(store, package.manifest["files"]["model.skops"]["sha256"]))
    with pytest.raises(NotFoundError, match=r"file 'model\.skops' of model"):
        load_model(store, package.sha256)


def test_artifacts_that_are_not_models_are_refused(store: FsspecArtifactStore) -> None:
    not_json, _ = store.put_bytes(b"\x00\x01 plain bytes")
    with pytest.raises(InvalidInputError, match="not a Loopline model"):
        load_model(store, not_json)
    not_manifest, _ = store.put_bytes(b'{"hello": "world"}')
    with pytest.raises(InvalidInputError, match="not a Loopline model"):
        load_model(store, not_manifest)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"format": "loopline-model/9"}, "is in format 'loopline-model/9'"),
        ({"flavor": "onnx"}, "has flavor 'onnx'"),
        ({"serialization": "pickle"}, "stored as 'pickle'"),
    ],
)
def test_unknown_format_or_flavor_is_refused(
    changes: dict[str, str],
    message: str,
    data: tuple[pd.DataFrame, pd.Series[int]],
    store: FsspecArtifactStore,
) -> None:
    X, y = data
    package = save_model(LogisticRegression().fit(X, y), store)
    altered, _ = store.put_bytes(json.dumps(package.manifest | changes).encode())
    with pytest.raises(SchemaVersionError, match=message):
        load_model(store, altered)


# what cannot be saved ----------------------------------------------------------------


def test_object_without_predict_is_refused(store: FsspecArtifactStore) -> None:
    with pytest.raises(InvalidInputError, match="cannot save a dict: it has no predict method"):
        save_model({"weights": [1, 2]}, store)


def test_class_instead_of_instance_is_refused(store: FsspecArtifactStore) -> None:
    with pytest.raises(InvalidInputError, match="is a class, not a fitted model"):
        save_model(LogisticRegression, store)


def test_unfitted_estimator_is_refused(store: FsspecArtifactStore) -> None:
    with pytest.raises(InvalidInputError, match="LGBMClassifier is not fitted"):
        save_model(lgb.LGBMClassifier(), store)


def test_unpicklable_model_is_refused(store: FsspecArtifactStore) -> None:
    model = ThresholdModel("spend", 1.0)
    model.threshold = lambda: 1.0  # type: ignore[assignment]
    with pytest.raises(InvalidInputError, match="cannot serialize the ThresholdModel"):
        save_model(model, store, unsafe_pickle=True)


def test_loaded_model_repr_is_short(
    data: tuple[pd.DataFrame, pd.Series[int]], store: FsspecArtifactStore
) -> None:
    X, _ = data
    package = save_model(ThresholdModel("spend", 1.0), store, unsafe_pickle=True)
    loaded: LoadedModel = load_model(store, package.sha256, allow_unsafe_pickle=True)
    assert "manifest" not in repr(loaded)
    assert loaded.signature is None
    np.testing.assert_array_equal(loaded.predict(X), ThresholdModel("spend", 1.0).predict(X))


def test_importing_models_does_not_import_the_boosters() -> None:
    code = (
        "import sys, loopline.models; "
        "print(sorted(m for m in ('lightgbm', 'xgboost', 'sklearn') if m in sys.modules))"
    )
    # Tests run from a temporary folder: point the child at this checkout's package.
    src = str(Path(loopline.models.__file__).parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-c", code]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60, env=env)
    assert out.stdout.strip() == "[]"


def test_classes_from_main_are_saved_with_a_warning(
    store: FsspecArtifactStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As in a notebook: the class is importable from __main__, but only in this process.
    main_class = type("Scripted", (ThresholdModel,), {"__module__": "__main__"})
    monkeypatch.setattr(sys.modules["__main__"], "Scripted", main_class, raising=False)
    with pytest.warns(UserWarning, match="Scripted is defined in __main__"):
        save_model(main_class("spend", 1.0), store, unsafe_pickle=True)
