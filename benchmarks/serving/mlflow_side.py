"""MLflow side of the serving benchmark: ``mlflow models serve``, one uvicorn worker.

Run with ``benchmarks/.venv/bin/python`` (MLflow 3.17). Logs the model with
``mlflow.sklearn.log_model`` into a SQLite tracking store in the cwd, registers it as ``bench``
with alias ``production``, serves ``models:/bench@production`` with ``--env-manager local``,
measures it, prints one JSON object on its last stdout line.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Before mlflow is imported: a store of our own in the cwd (the server subprocess inherits it),
# no telemetry, no git probing.
os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{Path.cwd() / 'mlflow.db'}"
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")

import mlflow
from _load import emit, free_port, measure, parse_args, serve
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient
from model import prepare


def main() -> None:
    args = parse_args(__doc__)
    prepared = prepare(Path.cwd())
    X, model = prepared.X, prepared.model
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(X, model.predict_proba(X)),
            # MLflow 3.17 saves with skops by default and refuses tree models unless their
            # types are listed as trusted; cloudpickle is the format most deployments use.
            serialization_format="cloudpickle",
            # The pyfunc calls `predict` unless told otherwise; every side serves probabilities.
            pyfunc_predict_fn="predict_proba",
            registered_model_name="bench",
        )
    MlflowClient().set_registered_model_alias("bench", "production", info.registered_model_version)
    port = free_port()
    cmd = [sys.executable, "-m", "mlflow", "models", "serve", "-m", "models:/bench@production"]
    cmd += ["-h", "127.0.0.1", "-p", str(port), "-w", "1", "--env-manager", "local"]
    # The CLI execs `uvicorn` found on PATH: it must be this venv's.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    with serve(cmd, port=port, ready_path="/ping", env=env) as url:
        measured = measure(f"{url}/invocations", prepared.mlflow_body, args)
    emit(
        "MLflow",
        mlflow.__version__,
        measured,
        notes=[
            f"MLflow {mlflow.__version__}: `mlflow models serve -m models:/bench@production "
            "-w 1 --env-manager local` (its defaults otherwise); sklearn flavor, cloudpickle, "
            "`pyfunc_predict_fn=predict_proba`, signature enforced."
        ],
    )


if __name__ == "__main__":
    main()
