"""The artifact store, on a local folder and on S3 (moto's server over HTTP): same behaviour."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loopline.errors import ArtifactCorruptedError, NotFoundError, StoreUnavailableError
from loopline.store import FsspecArtifactStore, open_artifact_store
from tests.store.conftest import CREDENTIALS, ArtifactBackend, s3_options


def test_put_get_is_content_addressed(artifact_backend: ArtifactBackend, tmp_path: Path) -> None:
    store = artifact_backend.store()
    digest, size = store.put_bytes(b"hello")
    assert digest == hashlib.sha256(b"hello").hexdigest() and size == 5
    assert store.exists(digest)
    assert store.put_bytes(b"hello") == (digest, 5)  # stored once
    assert store.get_bytes(digest) == b"hello"
    out = store.get_file(digest, tmp_path / "out" / "x.bin")
    assert out.read_bytes() == b"hello"
    # exactly one blob at its content address: no temporary files or keys left behind
    assert artifact_backend.files() == [artifact_backend.blob(digest)]
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["x.bin"]


def test_put_file_streams_a_file_in(artifact_backend: ArtifactBackend, tmp_path: Path) -> None:
    src = tmp_path / "model.bin"
    src.write_bytes(os.urandom(300_000))
    store = artifact_backend.store()
    digest, size = store.put_file(src)
    assert (digest, size) == (hashlib.sha256(src.read_bytes()).hexdigest(), 300_000)
    assert store.get_file(digest, tmp_path / "back.bin").read_bytes() == src.read_bytes()
    assert store.put_file(src) == (digest, size)
    assert artifact_backend.files() == [artifact_backend.blob(digest)]


def test_large_file_goes_up_in_parts_and_comes_back_verified(
    artifact_backend: ArtifactBackend, tmp_path: Path
) -> None:
    store = artifact_backend.store()
    store.part_size = 5 * 1024 * 1024  # S3's smallest part, to keep the test small
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(11 * 1024 * 1024 + 1))  # 3 parts: 5 + 5 + 1 MiB (+1 byte)
    digest, size = store.put_file(src)
    assert size == src.stat().st_size
    if artifact_backend.name == "s3":
        info = artifact_backend.fs.info(artifact_backend.blob(digest))
        assert info["ETag"].strip('"').endswith("-3")  # S3's mark of a 3-part upload
    back = store.get_file(digest, tmp_path / "back.bin")
    assert hashlib.sha256(back.read_bytes()).hexdigest() == digest


@pytest.mark.parametrize(
    "tampered", [b"model bytez", b"shorter", b"a much longer body than before"]
)
def test_corruption_is_detected_and_not_returned(
    artifact_backend: ArtifactBackend, tmp_path: Path, tampered: bytes
) -> None:
    store = artifact_backend.store()
    digest, _ = store.put_bytes(b"model bytes")
    assert store.get_bytes(digest) == b"model bytes"
    artifact_backend.overwrite(digest, tampered)
    with pytest.raises(ArtifactCorruptedError, match="corrupted"):
        store.get_bytes(digest)
    dest = tmp_path / "dest.bin"
    with pytest.raises(ArtifactCorruptedError):
        store.get_file(digest, dest)
    assert not dest.exists()
    assert list(tmp_path.glob(".dest.bin.tmp-*")) == []


def test_missing_blob_and_bad_digest(artifact_backend: ArtifactBackend) -> None:
    store = artifact_backend.store()
    assert not store.exists("0" * 64)
    with pytest.raises(NotFoundError, match="missing"):
        store.get_bytes("0" * 64)
    with pytest.raises(NotFoundError, match="not a sha256"):
        store.get_bytes("../../etc/passwd")


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=4096))
def test_any_bytes_round_trip(artifact_backend: ArtifactBackend, data: bytes) -> None:
    store = artifact_backend.store(uuid.uuid4().hex)  # a fresh root per example
    digest, size = store.put_bytes(data)
    assert size == len(data) and store.get_bytes(digest) == data


def test_missing_bucket_is_one_clear_error(s3_endpoint: str) -> None:
    store = FsspecArtifactStore("s3://no-such-bucket/x", **s3_options(s3_endpoint))
    with pytest.raises(StoreUnavailableError, match="s3://no-such-bucket/x") as info:
        store.put_bytes(b"x")
    assert "bucket exists" in info.value.one_line()


def test_s3_is_configured_by_environment_like_any_aws_client(
    s3_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import s3fs

    raw = s3fs.S3FileSystem(skip_instance_cache=True, **s3_options(s3_endpoint))
    raw.mkdir("team-artifacts")
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)  # an S3-compatible server, e.g. MinIO
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("LOOPLINE_ARTIFACTS_URI", "s3://team-artifacts/loopline")
    s3fs.S3FileSystem.clear_instance_cache()
    store = open_artifact_store()
    digest, _ = store.put_bytes(b"weights")
    assert raw.cat_file(f"team-artifacts/loopline/sha256/{digest[:2]}/{digest}") == b"weights"
    assert store.get_bytes(digest) == b"weights"
    s3fs.S3FileSystem.clear_instance_cache()
