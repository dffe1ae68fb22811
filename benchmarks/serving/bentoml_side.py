"""BentoML side of the serving benchmark: ``bentoml serve`` of a minimal service, one worker.

Run with ``benchmarks/.venv-bentoml/bin/python`` (built from
``benchmarks/serving/requirements-bentoml.txt``). Serves ``bento_service:Bench``, measures it,
prints one JSON object on its last stdout line.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import bentoml
from _load import HERE, emit, free_port, measure, parse_args, serve
from model import prepare


def main() -> None:
    args = parse_args(__doc__)
    prepared = prepare(Path.cwd())
    port = free_port()
    bentoml_cli = str(Path(sys.executable).with_name("bentoml"))
    cmd = [bentoml_cli, "serve", "bento_service:Bench", "--working-dir", str(HERE)]
    cmd += ["--host", "127.0.0.1", "--port", str(port)]
    env = {
        **os.environ,
        "BENCH_MODEL_PATH": str(prepared.model_path),
        "BENTOML_HOME": str(Path.cwd() / "bentoml"),  # not ~/bentoml
        "BENTOML_DO_NOT_TRACK": "True",
    }
    with serve(cmd, port=port, ready_path="/readyz", env=env) as url:
        measured = measure(f"{url}/invocations", prepared.mlflow_body, args)
    emit(
        "BentoML",
        bentoml.__version__,
        measured,
        notes=[
            f"BentoML {bentoml.__version__}: `bentoml serve` of a service with `workers=1` and "
            "one sync `@bentoml.api` taking the `dataframe_split` body (its defaults otherwise)."
        ],
    )


if __name__ == "__main__":
    main()
