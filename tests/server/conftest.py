"""A live team server per test, over the test's own store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._team_server import TeamServer, start_team_server


@pytest.fixture
def team(home: Path) -> Iterator[TeamServer]:
    server = start_team_server()
    yield server
    server.stop()
