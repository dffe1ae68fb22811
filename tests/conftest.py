"""Every test gets its own Loopline home in a temporary folder, and runs from there."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from loopline.config import load_settings
from loopline.store import reset_store_cache
from tests import _backends
from tests._team_server import TeamServer, start_team_server

# LL_TEST_REMOTE=1 runs the selected suites through a live team server (make pytest-remote).
REMOTE = os.environ.get("LL_TEST_REMOTE") == "1"
_SERVERS: list[TeamServer] = []

pytest_plugins = ["tests.registry.fixtures"]


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for key in list(os.environ):
        if key.startswith("LOOPLINE_"):
            monkeypatch.delenv(key)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("LOOPLINE_HOME", str(work / ".loopline"))
    _backends.configure(monkeypatch)  # PostgreSQL runs: a fresh database per test
    reset_store_cache()
    server = None
    if REMOTE:  # the same test, every call through a live team server on this store
        server = start_team_server(load_settings())
        _SERVERS.append(server)
        monkeypatch.setenv("LOOPLINE_TOKEN", server.token("tester"))
        monkeypatch.setenv("LOOPLINE_URL", server.url)
    yield work / ".loopline"
    reset_store_cache()
    if server is not None:
        server.stop()
        _SERVERS.remove(server)


@pytest.fixture
def switch_user(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Act as another user from now on: LOOPLINE_USER embedded (where the local owner may
    do anything), a token with `role` for that user remote."""

    def switch(name: str, role: str = "admin") -> None:
        if not REMOTE:
            monkeypatch.setenv("LOOPLINE_USER", name)
            return
        from loopline.store._http import _whoami

        monkeypatch.setenv("LOOPLINE_TOKEN", _SERVERS[-1].token(name, role))
        _whoami.cache_clear()

    return switch


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real `loopline` command in a subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "loopline", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        timeout=120,
        check=False,
    )
