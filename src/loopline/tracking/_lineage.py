"""Automatic lineage: which code, environment and machine a run came from.

Capturing it must not slow `start_run` down: the package list is hashed once per process
(installed packages do not change under a running interpreter in practice), and git is
asked at most once every few seconds per working directory.
"""

from __future__ import annotations

import getpass
import hashlib
import importlib.metadata
import os
import platform
import socket
import subprocess
import sys
import time
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

from loopline._version import __version__
from loopline.store import Lineage

_GIT_TTL_S = 5.0
_git_cache: dict[str, tuple[float, tuple[str | None, bool | None, str | None]]] = {}


def _git(args: list[str], cwd: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout if out.returncode == 0 else None


def strip_credentials(url: str) -> str:
    """Remove user:token@ from a remote URL so secrets never reach the store."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.scheme and parts.hostname and (parts.username or parts.password):
        host = parts.hostname + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return url


def git_state(cwd: str | None = None) -> tuple[str | None, bool | None, str | None]:
    """(commit, dirty, remote) of the working tree at `cwd`; Nones outside a repository."""
    cwd = cwd or os.getcwd()
    hit = _git_cache.get(cwd)
    if hit and time.monotonic() - hit[0] < _GIT_TTL_S:
        return hit[1]
    status = _git(["status", "--porcelain=v2", "--branch", "--untracked-files=no"], cwd)
    state: tuple[str | None, bool | None, str | None] = (None, None, None)
    if status is not None:
        commit = None
        dirty = False
        for line in status.splitlines():
            if line.startswith("# branch.oid "):
                oid = line.split()[-1]
                commit = None if oid == "(initial)" else oid
            elif not line.startswith("#"):
                dirty = True
        remote = _git(["config", "--get", "remote.origin.url"], cwd)
        state = (commit, dirty, strip_credentials(remote.strip()) if remote else None)
    _git_cache[cwd] = (time.monotonic(), state)
    return state


@lru_cache(maxsize=1)
def package_freeze() -> bytes:
    """`name==version` of every installed distribution, sorted: the environment's identity."""
    names = {
        f"{d.metadata['Name']}=={d.version}"
        for d in importlib.metadata.distributions()
        if d.metadata["Name"]
    }
    return ("\n".join(sorted(names, key=str.lower)) + "\n").encode()


def process_start_time(pid: int) -> str | None:
    """Kernel start time of `pid` (Linux), so a recycled pid is not mistaken for ours."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode(errors="replace")
    except OSError:
        return None
    # Field 22 (starttime); the command name in field 2 may contain spaces, so split after ')'.
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def capture_lineage(seed: int | None = None) -> Lineage:
    """Everything about where this run is executing, captured in a few milliseconds."""
    commit, dirty, remote = git_state()
    freeze = package_freeze()
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = None
    return Lineage(
        git_commit=commit,
        git_dirty=dirty,
        git_remote=remote,
        python_version=platform.python_version(),
        packages_hash=hashlib.sha256(freeze).hexdigest(),
        host=socket.gethostname(),
        user=user,
        pid=os.getpid(),
        proc_start=process_start_time(os.getpid()),
        seed=seed,
        environment={
            "platform": platform.platform(),
            "python_executable": sys.executable,
            "packages": freeze.count(b"\n"),
            "loopline": __version__,
            "cwd": os.getcwd(),
            "argv": sys.argv[:20],
        },
    )


__all__ = ["capture_lineage", "git_state", "package_freeze", "process_start_time"]
