"""A local artifact folder is read and written without fsspec, at the folder fsspec would
have used (the other behaviour is shared with S3 in test_artifacts.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import fsspec
import pytest

from loopline.store import FsspecArtifactStore
from loopline.store.artifacts import _local_folder


@pytest.mark.parametrize(
    "uri",
    [
        "artifacts",
        "artifacts/",
        "./artifacts",
        "a/../b",
        "~/artifacts",
        "/abs//artifacts/",
        "file:///abs/artifacts",
        "file://rel",
        "file:/abs/artifacts",
        "local:///abs/artifacts",
        "",
    ],
)
def test_a_local_uri_names_the_folder_fsspec_would_use(
    uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert _local_folder(uri, {}) == Path(fsspec.core.url_to_fs(uri)[1])


@pytest.mark.parametrize(
    ("uri", "options"),
    [
        ("s3://bucket/x", {}),
        ("memory://x", {}),
        ("simplecache::s3://bucket/x", {}),
        ("data:,x", {}),
        ("/a/folder", {"auto_mkdir": True}),  # options are for fsspec's local filesystem
    ],
)
def test_other_filesystems_stay_with_fsspec(uri: str, options: dict[str, object]) -> None:
    assert _local_folder(uri, options) is None


def test_a_local_store_never_imports_fsspec(tmp_path: Path) -> None:
    script = f"""
import sys
from loopline.store import FsspecArtifactStore
store = FsspecArtifactStore({str(tmp_path / "artifacts")!r})
digest, size = store.put_bytes(b"weights")
assert store.exists(digest) and not store.exists("0" * 64)
assert store.get_bytes(digest) == b"weights"
assert store.get_file(digest, {str(tmp_path / "out.bin")!r}).read_bytes() == b"weights"
assert "fsspec" not in sys.modules, "fsspec was imported"
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr


def test_a_local_folder_with_options_still_writes_by_rename(tmp_path: Path) -> None:
    store = FsspecArtifactStore(str(tmp_path), auto_mkdir=True)
    digest, _ = store.put_bytes(b"weights")
    assert store.get_bytes(digest) == b"weights"
    assert [p.name for p in (tmp_path / "sha256" / digest[:2]).iterdir()] == [digest]
