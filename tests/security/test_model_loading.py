"""Issue 15, trust boundary: loading a model never executes its author's code by default.

Each test reproduces one finding. The payload models (tests/security/model_payloads.py, and
`EvilLogistic` below) carry a `__reduce__` or `__setstate__` that, if ever run, writes a
marker file recording the pid that ran it and what it read from `os.environ["LOOPLINE_TOKEN"]`.
"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from starlette.testclient import TestClient

import loopline as ll
from loopline.errors import ArtifactCorruptedError, InvalidInputError, LooplineError
from loopline.models import UnsafeModelError, load_model, save_model, verify_package
from loopline.models._sandbox import child_environment
from loopline.pipelines import StepCache
from loopline.registry import verify_version
from loopline.serving import build_service, create_app
from loopline.store import (
    FsspecArtifactStore,
    ModelVersion,
    open_artifact_store,
    open_metadata_store,
)
from tests.security.model_payloads import AnswersWithObjects, Payload, Threshold, detonate


class EvilLogistic(LogisticRegression):
    """An sklearn subclass: skops would rebuild it through `__setstate__`."""

    marker = ""

    def __reduce__(self) -> tuple[Any, ...]:
        return (detonate, (self.marker,))

    def __setstate__(self, state: dict[str, Any]) -> None:
        detonate(state.get("marker", ""))
        self.__dict__.update(state)


@pytest.fixture
def X() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "payload-ran.json"


@pytest.fixture
def store(tmp_path: Path) -> FsspecArtifactStore:
    return FsspecArtifactStore(str(tmp_path / "artifacts"))


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOPLINE_TOKEN", "ll-secret-token")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-secret")
    monkeypatch.setenv("PGPASSWORD", "pg-secret")


def log(model: Any, X: pd.DataFrame, name: str = "pay", **opt: Any) -> ModelVersion:
    with ll.start_run(experiment="security") as run:
        info = run.log_model(model, signature=ll.infer_signature(X[["a", "b"]]), **opt)
    return ll.register_model(info, name)


def test_payload_is_refused_at_log_time_without_opt_in(X: pd.DataFrame, marker: Path) -> None:
    """Finding: a data scientist could log a model whose pickle carries a `__reduce__`
    payload. Without `unsafe_pickle=True` it is refused, naming the opt-in, and nothing ran."""
    evil = EvilLogistic().fit(X, X["a"] > 0)
    evil.marker = str(marker)
    for model in (Payload(marker), evil):
        with (
            ll.start_run(experiment="security") as run,
            pytest.raises(InvalidInputError, match="pass unsafe_pickle=True") as info,
        ):
            run.log_model(model)
        assert "\n" not in info.value.one_line()
        assert open_metadata_store().list_artifacts(run.id) == []
    assert not marker.exists()


def test_opted_in_payload_never_runs_without_the_load_opt_in(
    X: pd.DataFrame, marker: Path, secrets: None
) -> None:
    """Finding: `ll.load_model`, the registry's load and `loopline serve` unpickled whatever
    was logged. A logged opt-in alone is not enough: loading refuses, nothing runs."""
    v = log(Payload(marker), X, unsafe_pickle=True)
    for load in (
        lambda: ll.load_model(v.uri),
        lambda: ll.load_model(f"runs:/{v.run_id}/model"),
        lambda: load_model(open_artifact_store(), v.sha256),
        lambda: build_service(v.uri, capture=False),
    ):
        with pytest.raises(UnsafeModelError, match="allow_unsafe_pickle=True") as info:
            load()
        assert "LOOPLINE_ALLOW_UNSAFE_PICKLE=1" in info.value.one_line()
    assert not marker.exists()
    assert v.card["unsafe_pickle"] is True and v.card["serialization"] == "joblib"


def test_with_both_opt_ins_the_payload_runs_only_in_a_credential_free_child(
    X: pd.DataFrame, marker: Path, secrets: None
) -> None:
    """Finding: the pickle ran in the loader's process, with its token and cloud keys. With
    both opt-ins it runs in a child process whose environment has none of them."""
    v = log(Payload(marker), X, unsafe_pickle=True)
    model = ll.load_model(v.uri, allow_unsafe_pickle=True)
    ran = json.loads(marker.read_text())
    assert ran["pid"] != os.getpid() and ran["pid"] == model.raw.pid
    assert ran == {
        "pid": ran["pid"],
        "token": None,
        "AWS_SECRET_ACCESS_KEY": None,
        "PGPASSWORD": None,
    }
    assert model.in_child_process
    np.testing.assert_array_equal(model.predict(X), Threshold().predict(X))
    np.testing.assert_allclose(model.predict_proba(X), Threshold().predict_proba(X))
    labels, proba = model.score(X[["a", "b"]])
    assert proba is not None and labels.tolist() == Threshold().predict(X).tolist()


def test_serving_an_opted_in_pickle_predicts_through_the_child(
    X: pd.DataFrame, marker: Path, secrets: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding: `loopline serve` unpickled the model in the server. With
    LOOPLINE_ALLOW_UNSAFE_PICKLE=1 it serves, the model running in a child without the token."""
    v = log(Payload(marker), X, unsafe_pickle=True)
    monkeypatch.setenv("LOOPLINE_ALLOW_UNSAFE_PICKLE", "1")
    runtime = build_service(v.uri, capture=False)
    rows = X[["a", "b"]].head(3).to_dict(orient="records")
    with TestClient(create_app(runtime.service)) as client:
        r = client.post("/invocations", json={"dataframe_records": rows})
    assert r.status_code == 200, r.text
    ran = json.loads(marker.read_text())
    assert ran["pid"] != os.getpid() and ran["token"] is None


def test_the_parent_never_unpickles_what_the_child_sends(
    X: pd.DataFrame, marker: Path, store: FsspecArtifactStore
) -> None:
    """Finding: a proxy that unpickled the child's answers would hand the payload back to
    the parent. Answers are .npy without pickle or JSON: objects arrive as their text."""
    package = save_model(AnswersWithObjects(str(marker)), store, unsafe_pickle=True)
    model = load_model(store, package.sha256, allow_unsafe_pickle=True)
    out = model.predict(X.head(4))
    assert out.dtype == object and all(isinstance(v, str) for v in out)
    assert not marker.exists()


def test_child_environment_holds_no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding: a child inheriting the parent's environment would inherit its credentials."""
    for key in (
        "LOOPLINE_TOKEN",
        "LOOPLINE_URL",
        "LOOPLINE_DB_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SESSION_TOKEN",
        "PGPASSWORD",
        "PGHOST",
        "OPENAI_API_KEY",
        "DATABASE_URL",
    ):
        monkeypatch.setenv(key, "x")
    env = child_environment("/tmp/empty-home")
    assert not [k for k in env if k.startswith(("LOOPLINE_", "AWS_", "PG"))]
    assert "OPENAI_API_KEY" not in env and "DATABASE_URL" not in env
    assert env["HOME"] == "/tmp/empty-home" and env["PATH"] == os.environ["PATH"]


def skops_io() -> Any:
    """`skops.io`, imported as Loopline imports it (models/_skops.py): imported directly, its
    walk of scikit-learn imports torch, 4-5 s of CPU in every test worker that collects this
    file."""
    from loopline.models import _skops

    return _skops._sio()


def test_skops_allow_list_is_recorded_on_the_card_and_enforced(
    X: pd.DataFrame, marker: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding: an estimator loaded through pickle could run anything. It is stored with
    skops; the exact types it needs are on the manifest and card, and loading trusts exactly
    those: a file needing more, or a manifest trusting an author's class, is refused."""
    v = log(RandomForestClassifier(n_estimators=3).fit(X, X["a"] > 0), X, "forest")
    assert v.card["serialization"] == "skops" and v.card["unsafe_pickle"] is False
    assert v.card["trusted_types"] == ["sklearn.tree._tree.Tree"]
    store = open_artifact_store()
    manifest = json.loads(store.get_bytes(v.sha256))
    assert manifest["trusted_types"] == v.card["trusted_types"]
    seen: list[Any] = []
    sio = skops_io()
    real = sio.loads
    monkeypatch.setattr(
        sio, "loads", lambda data, trusted: seen.append(trusted) or real(data, trusted=trusted)
    )
    ll.load_model(v.uri).predict(X)
    assert seen == [["sklearn.tree._tree.Tree"]]
    fewer, _ = store.put_bytes(json.dumps({**manifest, "trusted_types": []}).encode())
    with pytest.raises(UnsafeModelError, match="needs types its manifest does not allow"):
        load_model(store, fewer)
    # A hand-made package: a skops file of the author's class, a manifest trusting it.
    evil = EvilLogistic().fit(X, X["a"] > 0)
    evil.marker = str(marker)
    file_sha, size = store.put_bytes(sio.dumps(evil))
    forged = {
        **manifest,
        "trusted_types": sio.get_untrusted_types(data=sio.dumps(evil)),
        "files": {"model.skops": {"sha256": file_sha, "size": size}},
    }
    forged_sha, _ = store.put_bytes(json.dumps(forged).encode())
    with pytest.raises(UnsafeModelError, match="outside the known libraries"):
        load_model(store, forged_sha)
    assert not marker.exists()


def test_old_joblib_package_is_refused_with_the_relog_hint(
    marker: Path, store: FsspecArtifactStore, tmp_path: Path
) -> None:
    """Finding: stores hold joblib pickles saved before the opt-in existed. They carry no
    `unsafe_pickle` marker, so nothing says anyone accepted the risk: loading refuses."""
    path = tmp_path / "old.joblib"
    joblib.dump(Payload(marker), path)
    file_sha, size = store.put_file(path)
    old = {
        "format": "loopline-model/1",
        "flavor": "sklearn",
        "serialization": "joblib",
        "files": {"model.joblib": {"sha256": file_sha, "size": size}},
        "signature": None,
    }
    sha, _ = store.put_bytes(json.dumps(old).encode())
    for allow in (None, True):
        with pytest.raises(UnsafeModelError) as info:
            load_model(store, sha, allow_unsafe_pickle=allow)
        assert "re-log it with run.log_model(model)" in info.value.one_line()
        assert "unsafe_pickle=True" in info.value.one_line()
    assert not marker.exists()


def test_verify_version_detects_a_tampered_file_without_deserializing(
    X: pd.DataFrame, marker: Path, home: Path
) -> None:
    """Finding: a gate proved a candidate intact by loading it, which runs its code.
    `verify_version` checks every file's sha256 and size and deserializes nothing."""
    v = log(Payload(marker), X, unsafe_pickle=True)
    manifest = verify_version(v)
    assert verify_version(v.uri) == manifest == verify_package(open_artifact_store(), v.sha256)
    digest = manifest["files"]["model.joblib"]["sha256"]
    blob = home / "artifacts" / "sha256" / digest[:2] / digest
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))
    with pytest.raises(ArtifactCorruptedError, match=r"file 'model\.joblib' of model"):
        verify_version(v)
    assert not marker.exists()


def test_card_cannot_hide_an_opted_in_pickle(X: pd.DataFrame, marker: Path) -> None:
    """Finding: the card's safety keys must be facts from the manifest, not the author's
    word: a card passed at registration cannot mark a pickle as safe."""
    with ll.start_run(experiment="security") as run:
        info = run.log_model(Payload(marker), unsafe_pickle=True)
    card = {"intended_use": "x", "unsafe_pickle": False, "serialization": "skops"}
    v = ll.register_model(info, "pay", card=card)
    assert v.card["unsafe_pickle"] is True and v.card["serialization"] == "joblib"
    assert v.card["intended_use"] == "x" and not marker.exists()


def test_step_cache_never_unpickles(
    X: pd.DataFrame, marker: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding: the pipeline step cache pickled step outputs and unpickled them on a cache
    hit. Models go through skops, other values through parquet/json/npy; a value none of
    those holds stays in memory for the run and is not cached; old pickles are never read."""

    def no_unpickling(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the step cache unpickled something")

    monkeypatch.setattr(pickle, "loads", no_unpickling)
    monkeypatch.setattr(pickle, "load", no_unpickling)
    cache = StepCache(open_metadata_store(), open_artifact_store())
    clf = LogisticRegression().fit(X, X["a"] > 0)
    stored = {"model": cache.put(clf, "model"), "pair": cache.put((1, "tuple"), "pair")}
    assert {n: o.format for n, o in stored.items()} == {"model": "skops", "pair": "skops"}
    np.testing.assert_array_equal(cache.load(stored["model"]).predict(X), clf.predict(X))
    custom = cache.put(Payload(marker), "custom")
    assert custom.format == "memory" and not custom.cached and custom.size == 0
    assert isinstance(cache.load(custom), Payload)
    with ll.start_run(experiment="pipe") as run:
        cache.record(run.id, "safe", "k-safe", stored)
        cache.record(run.id, "mixed", "k-mixed", {**stored, "custom": custom})
        old_sha, size = open_artifact_store().put_bytes(pickle.dumps(Payload(marker)))
        open_metadata_store().record_artifact(
            run.id, "steps/old/x", "step-output", old_sha, size, {"format": "pickle"}
        )
        open_metadata_store().add_lineage_edge(
            "step_cache", "k-old", "step_run", f"{run.id}/old", "produced"
        )
    assert cache.lookup("k-safe", ["model", "pair"]) is not None
    assert cache.lookup("k-mixed", ["model", "pair", "custom"]) is None  # not cached
    assert cache.lookup("k-old", ["x"]) is None  # an old pickle is a miss, never read
    with pytest.raises(LooplineError, match="not read: it could run code"):
        cache.load(cache.outputs_of(run.id, "old")["x"])
    assert not marker.exists()


def test_a_damaged_skops_file_is_one_clear_line_and_nothing_runs(tmp_path: Path) -> None:
    """skops' own check is the trust gate now: bytes it cannot read are a LooplineError
    naming the model, never a zipfile/JSON traceback; a type outside the list is refused."""
    from loopline.models import _skops

    with pytest.raises(LooplineError, match="model m is not a readable skops file"):
        _skops.load(b"not a zip archive", [], "m")
    sio = skops_io()
    data = sio.dumps(
        RandomForestClassifier(n_estimators=2, bootstrap=False).fit([[0], [1]], [0, 1])
    )
    with pytest.raises(UnsafeModelError, match=r"needs types its manifest does not allow \(\["):
        _skops.load(data, [], "m")
    needed = sio.get_untrusted_types(data=data)
    assert _skops.load(data, needed, "m").predict([[1]]).tolist() == [1]
