from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loopline.errors import ArtifactCorruptedError, NotFoundError
from loopline.store import FsspecArtifactStore


def _blob_path(root: Path, digest: str) -> Path:
    return root / "sha256" / digest[:2] / digest


def test_put_get_is_content_addressed(tmp_path: Path) -> None:
    store = FsspecArtifactStore(str(tmp_path / "a"))
    digest, size = store.put_bytes(b"hello")
    assert digest == hashlib.sha256(b"hello").hexdigest() and size == 5
    assert store.put_bytes(b"hello") == (digest, 5)  # stored once
    assert store.get_bytes(digest) == b"hello"
    out = store.get_file(digest, tmp_path / "out" / "x.bin")
    assert out.read_bytes() == b"hello"
    files = [p for p in (tmp_path / "a").rglob("*") if p.is_file()]
    assert files == [_blob_path(tmp_path / "a", digest)]  # no temp files left behind


def test_corruption_is_detected_and_not_returned(tmp_path: Path) -> None:
    root = tmp_path / "a"
    store = FsspecArtifactStore(str(root))
    digest, _ = store.put_bytes(b"model bytes")
    _blob_path(root, digest).write_bytes(b"model bytez")
    with pytest.raises(ArtifactCorruptedError, match="corrupted"):
        store.get_bytes(digest)
    dest = tmp_path / "dest.bin"
    with pytest.raises(ArtifactCorruptedError):
        store.get_file(digest, dest)
    assert not dest.exists()


def test_missing_blob_and_bad_digest(tmp_path: Path) -> None:
    store = FsspecArtifactStore(str(tmp_path / "a"))
    with pytest.raises(NotFoundError, match="missing"):
        store.get_bytes("0" * 64)
    with pytest.raises(NotFoundError, match="not a sha256"):
        store.get_bytes("../../etc/passwd")


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=4096))
def test_any_bytes_round_trip(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    store = FsspecArtifactStore(str(tmp_path_factory.mktemp("a")))
    digest, size = store.put_bytes(data)
    assert size == len(data) and store.get_bytes(digest) == data
