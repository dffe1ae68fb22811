"""Every test gets its own Loopline home in a temporary folder, and runs from there."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from loopline.config import Settings, load_settings
from loopline.store import reset_store_cache
from tests import _backends
from tests._cli import run_cli as run_cli  # where the tests import it from
from tests._team_server import TeamServer, start_team_server

# LL_TEST_REMOTE=1 runs the selected suites through a live team server (make pytest-remote).
REMOTE = os.environ.get("LL_TEST_REMOTE") == "1"
_SERVERS: list[TeamServer] = []

# Hypothesis' default 200 ms deadline per example times the machine, not the code: under the
# suite's own load (two xdist workers beside live servers) an example of a correct test can
# take longer, and the test fails for it (tests/batch/test_chunks.py did). Example counts and
# every test's own settings are unchanged.
settings.register_profile("loopline", deadline=None)
settings.load_profile("loopline")

pytest_plugins = ["tests.registry.fixtures"]


@pytest.fixture(scope="session")
def team_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TeamServer | None]:
    """Remote mode: one live team server for the session (per xdist worker); `home` puts a
    fresh app over each test's own store in front of it. None when not remote."""
    if not REMOTE:
        yield None
        return
    first = tmp_path_factory.mktemp("team-server") / ".loopline"
    server = start_team_server(
        Settings(first, f"sqlite:///{first / 'loopline.db'}", str(first / "artifacts"))
    )
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, team_server: TeamServer | None
) -> Iterator[Path]:
    for key in list(os.environ):
        if key.startswith("LOOPLINE_"):
            monkeypatch.delenv(key)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("LOOPLINE_HOME", str(work / ".loopline"))
    _backends.configure(monkeypatch)  # PostgreSQL runs: a fresh database per test
    reset_store_cache()
    if team_server is not None:  # the same test, every call through the team server
        team_server.serve(load_settings())  # ...over this test's own store and home
        _SERVERS.append(team_server)
        monkeypatch.setenv("LOOPLINE_TOKEN", team_server.token("tester"))
        monkeypatch.setenv("LOOPLINE_URL", team_server.url)
    yield work / ".loopline"
    reset_store_cache()
    if team_server is not None:
        _SERVERS.remove(team_server)


@pytest.fixture
def switch_user(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Act as another user from now on: LOOPLINE_USER embedded (where the local owner may
    do anything), a token with `role` for that user remote."""

    def switch(name: str, role: str = "admin") -> None:
        if not REMOTE:
            monkeypatch.setenv("LOOPLINE_USER", name)
            return
        from loopline.store.remote import _whoami

        monkeypatch.setenv("LOOPLINE_TOKEN", _SERVERS[-1].token(name, role))
        _whoami.cache_clear()

    return switch
