"""Artifact-store backends for the artifact suite: a local folder, and S3 over HTTP.

The S3 side is moto's standalone server (the S3 protocol over real HTTP on 127.0.0.1, what
s3fs's own tests use), started once per session in a thread; each test gets its own bucket.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from loopline.store import FsspecArtifactStore

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
_BUCKETS = itertools.count()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """http://127.0.0.1:PORT of a moto S3 server running for the whole session."""
    pytest.importorskip("s3fs")
    server_mod = pytest.importorskip("moto.server")
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def s3_options(endpoint: str) -> dict[str, Any]:
    return {
        "key": CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "secret": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        "client_kwargs": {"endpoint_url": endpoint},
    }


@dataclass
class ArtifactBackend:
    """Where one test's artifact store lives, and raw access to it behind the store's back."""

    name: str
    uri: str
    options: dict[str, Any] = field(default_factory=dict)
    fs: Any = None  # a filesystem of our own to inspect and tamper with what the store wrote
    root: str = ""

    def store(self, sub: str = "") -> FsspecArtifactStore:
        return FsspecArtifactStore(f"{self.uri}/{sub}" if sub else self.uri, **self.options)

    def blob(self, digest: str) -> str:
        return f"{self.root}/sha256/{digest[:2]}/{digest}"

    def files(self) -> list[str]:
        """Every file or object under the store's root, as full paths."""
        self.fs.invalidate_cache()
        return sorted(p.rstrip("/") for p in self.fs.find(self.root))

    def overwrite(self, digest: str, data: bytes) -> None:
        self.fs.pipe_file(self.blob(digest), data)


@pytest.fixture(params=["local", "s3"])
def artifact_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ArtifactBackend]:
    if request.param == "local":
        import fsspec

        root = tmp_path / "a"
        yield ArtifactBackend("local", str(root), fs=fsspec.filesystem("file"), root=str(root))
        return
    import s3fs

    endpoint = request.getfixturevalue("s3_endpoint")
    raw = s3fs.S3FileSystem(skip_instance_cache=True, **s3_options(endpoint))
    bucket = f"ll-test-{next(_BUCKETS)}-{uuid.uuid4().hex[:8]}"
    raw.mkdir(bucket)
    yield ArtifactBackend(
        "s3", f"s3://{bucket}/artifacts", s3_options(endpoint), fs=raw, root=f"{bucket}/artifacts"
    )
    raw.rm(bucket, recursive=True)
