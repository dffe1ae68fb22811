"""Every test gets its own Loopline home in a temporary folder, and runs from there."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from loopline.store import reset_store_cache

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
    reset_store_cache()
    yield work / ".loopline"
    reset_store_cache()


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
