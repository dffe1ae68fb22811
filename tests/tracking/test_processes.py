"""Several processes on one SQLite store, and a run killed with SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from loopline.store import open_metadata_store
from tests.conftest import run_cli

WRITER = textwrap.dedent(
    """
    import sys, loopline as ll
    with ll.start_run(experiment="concurrent", params={"worker": sys.argv[1]}) as run:
        for step in range(2000):
            run.log_metrics({f"m{k}": float(step * 10 + k) for k in range(4)}, step=step)
            if step % 500 == 0:
                run.flush()  # many small transactions interleave with the other writers
    print(run.id)
    """
)


def test_four_processes_logging_concurrently_lose_nothing() -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(w)], stdout=subprocess.PIPE, text=True)
        for w in range(4)
    ]
    ids = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    store = open_metadata_store()
    for rid in ids:
        run = store.get_run(rid)
        assert run.status == "finished"
        history = store.metric_history(rid)
        assert len(history) == 4 * 2000
        assert sorted(p.value for p in history if p.key == "m3") == [
            float(s * 10 + 3) for s in range(2000)
        ]


KILLED = textwrap.dedent(
    """
    import time, loopline as ll
    run = ll.start_run(experiment="doomed")
    print(run.id, flush=True)
    for step in range(300):
        run.log_metric("loss", 1.0 / (step + 1), step=step)
    run.flush()
    print("flushed", flush=True)
    time.sleep(60)
    """
)


def test_sigkilled_run_is_failed_on_next_cli_call_with_points_kept(home: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", KILLED], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    run_id = proc.stdout.readline().strip()
    assert proc.stdout.readline().strip() == "flushed"
    assert open_metadata_store().get_run(run_id).status == "running"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    time.sleep(0.1)
    shown = run_cli("runs", "show", run_id, "--json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["status"] == "failed"
    assert f"process {proc.pid}" in data["error"]
    assert data["metric_points"] == {"loss": 300}
