"""Server processes for the serving benchmark's sides: a free port, start, wait until ready, stop.

``serve()`` runs the server in its own session (so its own process group) and always stops the
whole group, SIGTERM then SIGKILL, however the ``with`` block ends; a SIGTERM to the side unwinds
through it too. If the side is killed outright (SIGKILL), a watchdog (this file run as a script)
kills the server and every process it started.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import resource
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType

HOST = "127.0.0.1"  # the only address the benchmark talks to


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through serve()'s finally, which stops the server


def _start_time(pid: int) -> str | None:
    """Field 22 of /proc/PID/stat: with the pid, it names one process even if pids are reused."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _descendants(pid: int) -> dict[int, str | None]:
    """Every live process below ``pid``, with its start time (Linux /proc; empty elsewhere)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # "pid (comm) state ppid ...": comm may hold spaces, so split after its ")".
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(stat.parent.name))
    found: dict[int, str | None] = {}
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found[child] = _start_time(child)
                todo.append(child)
    return found


def cpu_seconds() -> tuple[float, float]:
    """CPU seconds used so far by the whole machine, and by this process and all it started.

    The difference over a run is what other work took from the benchmark (other sessions, CI).
    Linux only (/proc); (0.0, 0.0) elsewhere.
    """
    tick = os.sysconf("SC_CLK_TCK")
    try:
        cpu = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return 0.0, 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = cpu
    busy = (user + nice + system + irq + softirq + steal) / tick
    ours = 0.0
    for pid in (os.getpid(), *_descendants(os.getpid())):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
            ours += (int(fields[11]) + int(fields[12])) / tick  # utime, stime of live processes
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)  # finished children: wrk runs
    return busy, ours + reaped.ru_utime + reaped.ru_stime


def _stop(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM the server's process group, SIGKILL whatever is left after ``grace`` seconds.

    Workers that a server puts in process groups of their own (circus does, for BentoML) are
    found by parentage before the first signal, and get the SIGKILL too if still alive.
    """
    pgid = proc.pid  # start_new_session=True: the server leads its own group
    strays = _descendants(proc.pid)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(grace)  # the leader stops its own workers first when it can
    for pid, started in strays.items():
        if started is not None and _start_time(pid) == started:  # still that same process
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    proc.wait()


def _wait_ready(proc: subprocess.Popen[bytes], url: str, timeout: float, log_path: Path) -> None:
    """Poll ``url`` until it answers 2xx; fail with the log's tail if the server exits first."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        with (
            contextlib.suppress(OSError, http.client.HTTPException),
            urllib.request.urlopen(url, timeout=2) as resp,
        ):
            if 200 <= resp.status < 300:
                return
        time.sleep(0.25)
    why = f"exited {proc.returncode}" if proc.returncode is not None else f"{timeout:.0f} s"
    tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-40:])
    raise SystemExit(f"server not ready ({why}); last lines of {log_path}:\n{tail}")


@contextlib.contextmanager
def serve(
    cmd: Sequence[str],
    *,
    port: int,
    ready_path: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 180.0,
) -> Iterator[str]:
    """Run ``cmd`` until GET ``ready_path`` answers 2xx; yield ``http://127.0.0.1:port``.

    The server's output goes to ``server.log`` in the cwd (a pipe nobody reads would fill and
    block it); its tail is shown when it fails to start.
    """
    log_path = Path.cwd() / "server.log"
    previous = signal.signal(signal.SIGTERM, _sigterm)
    proc: subprocess.Popen[bytes] | None = None
    watchdog: subprocess.Popen[bytes] | None = None
    try:
        with log_path.open("wb") as out:
            # The server gets its own session (and process group) so that _stop reaches every
            # process it forks (uvicorn, circus and BentoML workers).
            proc = subprocess.Popen(
                list(cmd),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=None if env is None else dict(env),
                start_new_session=True,
            )
        watch = [sys.executable, __file__, str(os.getpid()), str(proc.pid)]
        watchdog = subprocess.Popen(watch, stdin=subprocess.DEVNULL, start_new_session=True)
        base = f"http://{HOST}:{port}"
        _wait_ready(proc, base + ready_path, timeout, log_path)
        log(f"ready: {shlex.join(cmd)}")
        yield base
    finally:
        # A second SIGTERM must not interrupt the stop half-way and leave the server running.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if proc is not None:
            _stop(proc)
        if watchdog is not None:
            watchdog.kill()
            watchdog.wait()
        signal.signal(signal.SIGTERM, previous)


def _watch(side: int, server: int) -> None:
    """Until the server stops: if the side dies first, kill the server and all it started.

    The server's descendants are noted as they appear, because once the server is killed its
    workers are re-parented and can no longer be found by parentage.
    """
    started, tick = _start_time(server), 0
    known: dict[int, str | None] = {}
    while started is not None and _start_time(server) == started:
        if os.getppid() != side:  # the side is gone without stopping the server
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server, signal.SIGKILL)
            for pid, pid_started in known.items():
                if pid_started is not None and _start_time(pid) == pid_started:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            return
        if tick % 10 == 0:  # every 5 s: cheap enough not to disturb the measurement
            known |= _descendants(server)
        tick += 1
        time.sleep(0.5)


if __name__ == "__main__":
    _watch(int(sys.argv[1]), int(sys.argv[2]))
