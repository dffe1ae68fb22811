"""MLflow scoring-protocol conformance: `loopline serve` next to `mlflow models serve` on
the same sklearn model, every payload form MLflow documents sent to both, status codes and
body shapes compared; and mlflow's own `ScoringServerClient` driving Loopline.

mlflow runs in its own venv (tests/requirements-mlflow.txt; path from LL_TEST_MLFLOW_PY,
default .venv-mlflow/bin/python at the repo root), never in the product's. Without it the
module skips and says how to build it. Integration tier: two real servers and a second
Python, about half a minute.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import loopline as ll
from tests.serving.conftest import free_port

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
# relative to the repo root, not the cwd: every test runs in its own temp folder
MLFLOW_PY = REPO / os.environ.get("LL_TEST_MLFLOW_PY", ".venv-mlflow/bin/python")
BUILD = (
    "python3 -m venv .venv-mlflow && .venv-mlflow/bin/pip install -q -r "
    "tests/requirements-mlflow.txt"
)
if not MLFLOW_PY.exists():
    reason = f"no mlflow venv at {MLFLOW_PY} (build it: {BUILD}; or set LL_TEST_MLFLOW_PY)"
    print(f"test_mlflow_conformance skipped: {reason}")
    pytest.skip(reason, allow_module_level=True)

# MLflow's two 400 codes: decode errors are BAD_REQUEST, schema enforcement (a missing
# column) INVALID_PARAMETER_VALUE. We say BAD_REQUEST for every client mistake: both map
# to 400 in mlflow.exceptions, which is what MLflow's clients act on.
MLFLOW_400 = {"BAD_REQUEST", "INVALID_PARAMETER_VALUE"}
JSON = "application/json"
CSV = "text/csv"
PARQUET = "application/vnd.apache.parquet"

SAVE_SCRIPT = """
import pickle, sys
import mlflow.sklearn
from mlflow.models import infer_signature
import pandas as pd
model_pickle, frame_csv, out = sys.argv[1:]
with open(model_pickle, "rb") as f:
    model = pickle.load(f)
X = pd.read_csv(frame_csv)
mlflow.sklearn.save_model(model, out, signature=infer_signature(X, model.predict(X)))
"""

CLIENT_SCRIPT = """
import json, sys
import pandas as pd
from mlflow.pyfunc.scoring_server.client import ScoringServerClient
port, rows = int(sys.argv[1]), json.loads(sys.argv[2])
client = ScoringServerClient("127.0.0.1", port)
client.wait_server_ready(timeout=30)
out = {"version": client.get_version()}
frame = pd.DataFrame(rows)
out["frame"] = client.invoke(frame).get_predictions(predictions_format="ndarray").tolist()
out["params"] = client.invoke(frame, params={"unused": 1})["predictions"]
out["records"] = client.invoke(rows)["predictions"]  # sent as {"inputs": [{...}]}
out["ndarray"] = client.invoke(frame.to_numpy())["predictions"]  # {"inputs": [[...]]}
try:
    client.invoke(frame[["a"]])
except Exception as exc:
    out["missing"] = str(exc)
print(json.dumps(out))
"""

ROWS = [{"a": 0.5, "b": -1.0}, {"a": -2.0, "b": 0.3}, {"a": 1.5, "b": 2.0}]


def _training() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(7)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    y = pd.Series((X["a"] - 0.5 * X["b"] + rng.normal(0, 0.3, 300) > 0).astype("int64"))
    return X, y.rename("label")


def _start(
    cmd: list[str], port: int, log: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.Popen[bytes]:
    """A server in its own process group (so its workers stop with it), once /ping is 200."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=env
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{cmd[:3]} exited {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ping", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    _stop(proc)
    raise AssertionError(f"{cmd[:3]} not ready in {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


@dataclass
class Pair:
    mlflow: str
    loopline: str


@pytest.fixture(scope="module")
def trained() -> LogisticRegression:
    X, y = _training()
    return LogisticRegression().fit(X, y)


@pytest.fixture(scope="module")
def mlflow_url(
    trained: LogisticRegression, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """`mlflow models serve` on the model, saved by mlflow itself in its own venv."""
    work = tmp_path_factory.mktemp("mlflow")
    (work / "model.pkl").write_bytes(pickle.dumps(trained))
    _training()[0].to_csv(work / "X.csv", index=False)
    saved = subprocess.run(
        [str(MLFLOW_PY), "-c", SAVE_SCRIPT, str(work / "model.pkl"), str(work / "X.csv"),
         str(work / "model")],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert saved.returncode == 0, saved.stderr[-3000:]
    port = free_port()
    mlflow = str(MLFLOW_PY.parent / "mlflow")
    cmd = [mlflow, "models", "serve", "-m", str(work / "model"), "--env-manager", "local",
           "-h", "127.0.0.1", "-p", str(port)]  # fmt: skip
    # `mlflow models serve` runs `uvicorn` from PATH: its venv's bin comes first, as when
    # that venv is activated.
    env = {**os.environ, "PATH": f"{MLFLOW_PY.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = _start(cmd, port, work / "serve.log", env)
    yield f"http://127.0.0.1:{port}"
    _stop(proc)


@pytest.fixture
def servers(trained: LogisticRegression, mlflow_url: str, tmp_path: Path) -> Iterator[Pair]:
    """The same model logged into Loopline and served by the real `loopline serve`."""
    X, y = _training()
    with ll.start_run(experiment="parity") as run:
        info = run.log_model(trained, signature=ll.infer_signature(X, y))
    version = ll.register_model(info, "parity")
    ll.promote("parity", version.version, "production")
    port = free_port()
    cmd = [sys.executable, "-m", "loopline", "serve", "models:/parity@production",
           "--port", str(port), "--no-capture"]  # fmt: skip
    proc = _start(cmd, port, tmp_path / "loopline-serve.log")
    yield Pair(mlflow_url, f"http://127.0.0.1:{port}")
    _stop(proc)


def _parquet(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


def _json(body: Any) -> bytes:
    return json.dumps(body).encode()


FRAME = pd.DataFrame(ROWS)
SPLIT = {"columns": ["a", "b"], "data": FRAME.to_numpy().tolist()}
EXTRA = FRAME.assign(c=["x", "y", "z"])
RECORDS = _json({"dataframe_records": ROWS})
# case: (content type or None for none, body, MLflow's status, Loopline's status)
CASES: dict[str, tuple[str | None, bytes, int, int]] = {
    "dataframe_split": (JSON, _json({"dataframe_split": SPLIT}), 200, 200),
    "dataframe_split+index": (JSON, _json({"dataframe_split": FRAME.to_dict("split")}), 200, 200),
    "dataframe_records": (JSON, RECORDS, 200, 200),
    "instances (records)": (JSON, _json({"instances": ROWS}), 200, 200),
    "inputs (columns)": (JSON, _json({"inputs": FRAME.to_dict("list")}), 200, 200),
    # MLflow reads positional rows as a tensor that matches no named column (400); we
    # name them by the signature's column order: more lenient, never a different answer.
    "instances (rows)": (JSON, _json({"instances": SPLIT["data"]}), 400, 200),
    "inputs (rows)": (JSON, _json({"inputs": SPLIT["data"]}), 400, 200),
    "split+params": (JSON, _json({"dataframe_split": SPLIT, "params": {"k": 1}}), 200, 200),
    "records+params": (JSON, _json({"dataframe_records": ROWS, "params": {"k": 1}}), 200, 200),
    "json; charset=utf-8": (f"{JSON}; charset=utf-8", RECORDS, 200, 200),
    "int for a float column": (JSON, _json({"dataframe_records": [{"a": 1, "b": 2}]}), 200, 200),
    "csv": (CSV, FRAME.to_csv(index=False).encode(), 200, 200),
    "csv; charset=utf-8": (f"{CSV}; charset=utf-8", FRAME.to_csv(index=False).encode(), 200, 200),
    "parquet": (PARQUET, _parquet(FRAME), 200, 200),
    "extra column (records)": (
        JSON,
        _json({"dataframe_records": EXTRA.to_dict("records")}),
        200,
        200,
    ),
    "extra column (csv)": (CSV, EXTRA.to_csv(index=False).encode(), 200, 200),
    "extra column (parquet)": (PARQUET, _parquet(EXTRA), 200, 200),
    "bad json": (JSON, b'{"dataframe_records": [', 400, 400),
    "json list": (JSON, b"[1, 2]", 400, 400),
    "no known key": (JSON, _json({"something": ROWS}), 400, 400),
    "missing column (records)": (JSON, _json({"dataframe_records": [{"a": 0.5}]}), 400, 400),
    "missing column (csv)": (CSV, b"a\n0.5\n", 400, 400),
    "missing column (parquet)": (PARQUET, _parquet(FRAME[["a"]]), 400, 400),
    "wrong type (records)": (
        JSON,
        _json({"dataframe_records": [{"a": "high", "b": 1.0}]}),
        400,
        400,
    ),
    "wrong type (csv)": (CSV, b"a,b\nhigh,1\n", 400, 400),
    "null": (JSON, _json({"dataframe_records": [{"a": None, "b": 1.0}]}), 400, 400),
    "no rows": (JSON, _json({"dataframe_records": []}), 400, 400),
    "ragged split": (
        JSON,
        _json({"dataframe_split": {"columns": ["a", "b"], "data": [[1.0, 2.0], [1.0]]}}),
        400,
        400,
    ),
    "bad csv": (CSV, b'a,b\n"x,\x00\n1,2,3,4\n', 400, 400),
    "bad parquet": (PARQUET, b"PAR1 not parquet", 400, 400),
    # MLflow fails on a missing Content-Type with a bare 500 (it calls None.split); we say
    # 415 and which types we read, as the client's mistake it is.
    "absent content type": (None, RECORDS, 500, 415),
    "text/plain": ("text/plain", RECORDS, 415, 415),
    "application/x-parquet": ("application/x-parquet", _parquet(FRAME), 415, 415),
    "charset=latin-1": (f"{JSON}; charset=latin-1", RECORDS, 415, 415),
    "format=pandas-split (MLflow 1)": (f"{JSON}; format=pandas-split", RECORDS, 415, 415),
    # Media types are case-insensitive (RFC 9110 §8.3.1); MLflow compares them as written.
    "Application/JSON": ("Application/JSON", RECORDS, 415, 200),
}


def _post(url: str, content_type: str | None, body: bytes) -> httpx.Response:
    """One request on its own connection: MLflow's server may drop a kept-alive one after
    its 500, and a reset is not what is compared here."""
    headers = {} if content_type is None else {"content-type": content_type}
    return httpx.post(f"{url}/invocations", content=body, headers=headers, timeout=30)


def test_every_payload_form_answers_as_mlflow_models_serve(
    servers: Pair, trained: LogisticRegression
) -> None:
    table = []
    problems = []
    for case, (content_type, body, want_mlflow, want_loopline) in CASES.items():
        theirs = _post(servers.mlflow, content_type, body)
        ours = _post(servers.loopline, content_type, body)
        table.append(f"{case:34} mlflow {theirs.status_code}  loopline {ours.status_code}")
        if (theirs.status_code, ours.status_code) != (want_mlflow, want_loopline):
            problems.append(f"{case}: {theirs.text[:300]} | {ours.text[:300]}")
            continue
        if ours.status_code == 200:
            predictions = ours.json()["predictions"]
            if theirs.status_code == 200:
                assert predictions == theirs.json()["predictions"], case
            frame = _frame_of(content_type, body)
            assert predictions == trained.predict(frame[["a", "b"]]).tolist(), case
            if case.startswith("extra column"):
                assert ours.headers["x-loopline-ignored-columns"] == "c", case
        else:
            _assert_error_shape(case, theirs, ours)
    print("\n" + "\n".join(table))
    assert not problems, "\n".join([*table, "", *problems])


def _frame_of(content_type: str | None, body: bytes) -> pd.DataFrame:
    """The rows a 200 case sent, to score with the model directly."""
    if content_type and content_type.lower().startswith(PARQUET):
        return pd.read_parquet(io.BytesIO(body))
    if content_type and content_type.startswith(CSV):
        return pd.read_csv(io.BytesIO(body))
    payload = json.loads(body)
    for key in ("dataframe_records", "instances", "inputs"):
        value = payload.get(key)
        if isinstance(value, dict):
            return pd.DataFrame(value)
        if isinstance(value, list):
            if value and isinstance(value[0], list):
                return pd.DataFrame(value, columns=["a", "b"])
            return pd.DataFrame(value)
    split = payload["dataframe_split"]
    return pd.DataFrame(split["data"], columns=split["columns"])


def _assert_error_shape(case: str, theirs: httpx.Response, ours: httpx.Response) -> None:
    """Ours is always JSON in MLflow's shape, with our detail beside it."""
    body = ours.json()
    assert isinstance(body["message"], str) and body["message"], (case, body)
    assert body["hint"] and isinstance(body["details"], dict), (case, body)
    if ours.status_code == 400:
        assert body["error_code"] == "BAD_REQUEST", (case, body)
        assert theirs.json()["error_code"] in MLFLOW_400, (case, theirs.text[:300])
    elif ours.status_code == 415:
        # MLflow answers 415 in text/plain (naming the types it reads, the charset or the
        # parameter); ours is JSON, as every other error of ours, listing the types.
        if theirs.status_code == 415:
            assert theirs.headers["content-type"].startswith("text/plain"), case
        assert body["details"]["accepted"] == [JSON, CSV, PARQUET], (case, body)
        assert body["error_code"] == "BAD_REQUEST", (case, body)


def test_mlflow_scoring_server_client_drives_loopline(servers: Pair) -> None:
    """mlflow's own ScoringServerClient, from the mlflow venv: wait_server_ready, invoke
    (a DataFrame, with params, records, an ndarray) and get_version against `loopline serve`."""
    port = servers.loopline.rsplit(":", 1)[1]
    done = subprocess.run(
        [str(MLFLOW_PY), "-c", CLIENT_SCRIPT, port, json.dumps(ROWS)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["version"] == ll.__version__
    expected = httpx.post(
        f"{servers.mlflow}/invocations", json={"dataframe_records": ROWS}, timeout=30
    ).json()["predictions"]
    assert out["frame"] == expected and out["params"] == expected
    assert out["records"] == expected
    # MLflow itself refuses a bare ndarray for a model with named columns (400); we read
    # the rows in the signature's column order
    assert out["ndarray"] == expected
    # a refused request surfaces as MLflow's client reports it: the status and our body
    assert "error code 400" in out["missing"] and "BAD_REQUEST" in out["missing"], out
    assert "'b'" in out["missing"], out
