"""Bare Starlette side of the serving benchmark: the floor any model server sits on.

Run with the product interpreter (``/work/main/.venv/bin/python``), which has Starlette and
uvicorn as product dependencies, so the floor uses the same HTTP stack Loopline's server gets.
Starts ``uvicorn bare_app:app --workers 1`` (access log off), measures it, prints one JSON object
on its last stdout line.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import starlette
import uvicorn
from _load import HERE, emit, free_port, measure, parse_args, serve
from model import prepare


def main() -> None:
    args = parse_args(__doc__)
    prepared = prepare(Path.cwd())
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", "bare_app:app", "--app-dir", str(HERE)]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    cmd += ["--no-access-log", "--log-level", "warning"]
    env = {**os.environ, "BENCH_MODEL_PATH": str(prepared.model_path)}
    with serve(cmd, port=port, ready_path="/ping", env=env) as url:
        measured = measure(f"{url}/invocations", prepared.mlflow_body, args)
    emit(
        "bare Starlette",
        starlette.__version__,
        measured,
        notes=[
            f"bare Starlette {starlette.__version__} under uvicorn {uvicorn.__version__}, one "
            "worker, no access log: JSON -> one-row DataFrame -> `predict_proba`, nothing else."
        ],
    )


if __name__ == "__main__":
    main()
