"""Runs whose process died are failed (same host) or lost (no heartbeat), never left running.

`stale_runs` is the pure decision; `reap_stale_runs` applies it to a store. The CLI calls
the latter before it shows runs, so a SIGKILLed training shows up failed on the next call.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from loopline.store import MAX_RUNS_PAGE, MetadataStore, Run
from loopline.tracking._lineage import process_start_time


@dataclass(frozen=True)
class StaleRun:
    run_id: str
    status: str  # failed | lost
    reason: str


def pid_alive(pid: int, proc_start: str | None) -> bool:
    """True if `pid` runs and (where the kernel tells) is the same process that started."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    if proc_start is not None:
        now_start = process_start_time(pid)
        if now_start is not None and now_start != proc_start:
            return False  # the pid was recycled by another process
        if _is_zombie(pid):
            return False
    return True


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().decode(errors="replace").rsplit(")", 1)[-1].split()
    except OSError:
        return False
    return bool(fields) and fields[0] == "Z"


def stale_runs(
    running: Iterable[Run],
    *,
    host: str,
    now: float,
    lost_after_s: float,
    is_alive: Callable[[int, str | None], bool],
) -> list[StaleRun]:
    """Which running runs are dead: pure, so it is tested without killing anything."""
    out: list[StaleRun] = []
    for run in running:
        lin = run.lineage
        if lin.host == host and lin.pid is not None:
            if not is_alive(lin.pid, lin.proc_start):
                out.append(
                    StaleRun(
                        run.id,
                        "failed",
                        f"process {lin.pid} on {host} ended without closing the run "
                        "(killed, or crashed hard)",
                    )
                )
        elif now - run.heartbeat_at > lost_after_s:
            silent = int(now - run.heartbeat_at)
            out.append(StaleRun(run.id, "lost", f"no heartbeat from {lin.host} for {silent} s"))
    return out


def reap_stale_runs(
    store: MetadataStore, lost_after_s: float, running: Iterable[Run] | None = None
) -> list[StaleRun]:
    """Mark dead runs failed/lost in `store` (of `running`, if the caller already listed
    them); returns what it changed."""
    found = stale_runs(
        store.list_runs(status="running", limit=MAX_RUNS_PAGE) if running is None else running,
        host=socket.gethostname(),
        now=time.time(),
        lost_after_s=lost_after_s,
        is_alive=pid_alive,
    )
    for stale in found:
        store.finish_run(stale.run_id, stale.status, stale.reason, only_if_running=True)
    return found


__all__ = ["StaleRun", "pid_alive", "reap_stale_runs", "stale_runs"]
