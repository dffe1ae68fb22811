from __future__ import annotations

from pathlib import Path

import pytest

from loopline.store import FsspecArtifactStore


@pytest.fixture
def store(tmp_path: Path) -> FsspecArtifactStore:
    return FsspecArtifactStore(str(tmp_path / "artifacts"))
