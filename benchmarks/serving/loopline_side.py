"""Loopline side of the serving benchmark: ``loopline models serve``, one worker.

Run by ``benchmarks/run.py`` with the product interpreter in a fresh temporary directory as cwd.
Registers the model as ``bench`` with alias ``production`` in an embedded store in the cwd,
serves ``models:/bench@production``, measures it, prints one JSON object on its last stdout line.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The store location is read at import time: point it into the cwd (the server subprocess
# inherits it), and drop anything that would send the benchmark to a server or another database.
for _var in ("LOOPLINE_URL", "LOOPLINE_DB_URL", "LOOPLINE_ARTIFACTS_URI"):
    os.environ.pop(_var, None)
os.environ["LOOPLINE_HOME"] = str(Path.cwd() / ".loopline")

from _load import emit, free_port, measure, parse_args, serve  # noqa: E402
from model import prepare  # noqa: E402

import loopline as ll  # noqa: E402

# Adaptive micro-batching as a user would switch it on for this load: up to 64 rows per
# predict call (the largest concurrency measured); the queue bound stays at its default
# (1,000 ms; a request waiting longer is answered 503). A 50 ms bound shed 26 of ~28,000
# requests at c=64 on this 2-core machine, whose batch cycle is ~40 ms.
BATCH_MAX_SIZE = 64


def batching_option() -> bool:
    """``--batching``: serve with adaptive micro-batching (taken out of ``sys.argv``)."""
    if "--batching" not in sys.argv:
        return False
    sys.argv.remove("--batching")
    return True


def capture_option() -> bool:
    """``--capture on|off`` (default on, the product's default), taken out of ``sys.argv``
    before the harness's own options are parsed."""
    argv, capture = sys.argv[1:], "on"
    if "--capture" in argv:
        at = argv.index("--capture")
        capture = argv[at + 1] if at + 1 < len(argv) else ""
        del sys.argv[at + 1 : at + 3]
    if capture not in ("on", "off"):
        raise SystemExit(f"--capture takes on or off, not {capture!r}")
    return capture == "on"


def main() -> None:
    capture, batching = capture_option(), batching_option()
    args = parse_args(__doc__)
    prepared = prepare(Path.cwd())
    with ll.start_run(experiment="bench") as run:
        info = run.log_model(prepared.model, signature=ll.infer_signature(prepared.X, prepared.y))
    version = ll.register_model(info, "bench")
    ll.promote("bench", version.version, "production")
    port = free_port()
    loopline = str(Path(sys.executable).with_name("loopline"))
    cmd = [loopline, "serve", "models:/bench@production", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--workers", "1"]
    options = [] if capture else ["--no-capture"]
    if batching:
        options += ["--batch-max-size", str(BATCH_MAX_SIZE)]
    cmd += options
    shown = " ".join(["loopline models serve models:/bench@production --workers 1", *options])
    with serve(cmd, port=port, ready_path="/v2/health/ready") as url:
        measured = measure(f"{url}/invocations", prepared.mlflow_body, args)
    emit(
        "Loopline",
        ll.__version__,
        measured,
        notes=[f"Loopline: `{shown}`" + ("" if options else ", its defaults (capture on).")],
    )


if __name__ == "__main__":
    main()
