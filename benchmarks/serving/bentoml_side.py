"""BentoML side of the serving benchmark: ``bentoml serve`` of a minimal service, one worker.

Run with ``benchmarks/.venv-bentoml/bin/python`` (built from
``benchmarks/serving/requirements-bentoml.txt``). Serves ``bento_service:Bench`` or, with
``--batching``, ``bento_service:BenchBatched`` (adaptive batching), measures it, prints one
JSON object on its last stdout line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import bentoml
from _load import HERE, emit, free_port, measure, parse_args, serve
from bento_service import MAX_BATCH_SIZE, MAX_LATENCY_MS
from model import prepare


def batched_body(mlflow_body: Path) -> Path:
    """The same single row as ``{"data": [[...]]}``: what a batchable ndarray API takes."""
    row = json.loads(mlflow_body.read_text())["dataframe_split"]["data"]
    path = mlflow_body.with_name("bentoml_batched.json")
    path.write_text(json.dumps({"data": row}))
    return path


def main() -> None:
    # --batching is this side's own; _load.parse_args takes the flags every side shares.
    own = argparse.ArgumentParser(add_help=False)
    own.add_argument("--batching", action="store_true", help="adaptive batching")
    batching = own.parse_known_args()[0].batching
    sys.argv = [arg for arg in sys.argv if arg != "--batching"]
    args = parse_args(__doc__)
    prepared = prepare(Path.cwd())
    port = free_port()
    service = "bento_service:BenchBatched" if batching else "bento_service:Bench"
    body = batched_body(prepared.mlflow_body) if batching else prepared.mlflow_body
    bentoml_cli = str(Path(sys.executable).with_name("bentoml"))
    cmd = [bentoml_cli, "serve", service, "--working-dir", str(HERE)]
    cmd += ["--host", "127.0.0.1", "--port", str(port)]
    env = {
        **os.environ,
        "BENCH_MODEL_PATH": str(prepared.model_path),
        "BENTOML_HOME": str(Path.cwd() / "bentoml"),  # not ~/bentoml
        "BENTOML_DO_NOT_TRACK": "True",
    }
    with serve(cmd, port=port, ready_path="/readyz", env=env) as url:
        measured = measure(f"{url}/invocations", body, args)
    version = bentoml.__version__
    if batching:
        note = (
            f"BentoML {version}, adaptive batching: `bentoml serve` of a service with "
            f"`workers=1` and one `@bentoml.api(batchable=True, max_batch_size={MAX_BATCH_SIZE}, "
            f"max_latency_ms={MAX_LATENCY_MS:,})` taking the row as a 1 x 30 array "
            '(`{"data": [[...]]}`: a batchable API takes one array-like argument); the '
            "dispatcher joins concurrent requests into one `predict_proba` call."
        )
    else:
        note = (
            f"BentoML {version}: `bentoml serve` of a service with `workers=1` and one sync "
            "`@bentoml.api` taking the `dataframe_split` body (its defaults otherwise)."
        )
    emit("BentoML (adaptive batching)" if batching else "BentoML", version, measured, [note])


if __name__ == "__main__":
    main()
