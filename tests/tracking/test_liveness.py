from __future__ import annotations

import os
import subprocess
import sys

from loopline.store import Lineage, Run
from loopline.tracking import stale_runs
from loopline.tracking._lineage import process_start_time
from loopline.tracking._liveness import pid_alive


def _run(rid: str, host: str, pid: int | None, heartbeat: float) -> Run:
    return Run(
        id=rid,
        experiment_id=1,
        experiment="e",
        name=rid,
        status="running",
        started_at=0.0,
        ended_at=None,
        heartbeat_at=heartbeat,
        error=None,
        lineage=Lineage(host=host, pid=pid),
    )


def test_dead_local_process_fails_and_silent_remote_is_lost() -> None:
    runs = [
        _run("local-dead", "me", 11, 99.0),
        _run("local-alive", "me", 12, 0.0),
        _run("remote-silent", "other", 13, 0.0),
        _run("remote-recent", "other", 14, 95.0),
    ]
    found = stale_runs(runs, host="me", now=100.0, lost_after_s=10, is_alive=lambda p, _: p == 12)
    assert [(s.run_id, s.status) for s in found] == [
        ("local-dead", "failed"),
        ("remote-silent", "lost"),
    ]
    assert "process 11" in found[0].reason and "100 s" in found[1].reason


def test_pid_alive_sees_exit_and_recycled_pids() -> None:
    me = os.getpid()
    assert pid_alive(me, process_start_time(me))
    assert not pid_alive(me, "1")  # same pid, different start time: not our process
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not pid_alive(child.pid, None)
