"""Content-addressed artifact store over fsspec.

A blob lives at `<root>/sha256/<first two hex>/<full hex>`. Writing the same bytes twice
stores them once. Writes go to a temporary name and are renamed into place, so a reader
never sees half a blob; every read recomputes the sha256 and refuses a mismatch.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from abc import ABC, abstractmethod
from pathlib import Path
from typing import BinaryIO

import fsspec

from loopline.errors import ArtifactCorruptedError, NotFoundError, StoreUnavailableError

_CHUNK = 1 << 20


def sha256_file(path: str | os.PathLike[str]) -> tuple[str, int]:
    """(hex digest, size) of a local file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


class ArtifactStore(ABC):
    """The artifact-store seam: put bytes in, get verified bytes out, by sha256."""

    uri: str

    @abstractmethod
    def put_file(self, path: str | os.PathLike[str]) -> tuple[str, int]:
        """Store a local file; returns (sha256, size)."""

    @abstractmethod
    def put_bytes(self, data: bytes) -> tuple[str, int]: ...

    @abstractmethod
    def get_bytes(self, sha256: str) -> bytes:
        """The blob's bytes, verified against `sha256`."""

    @abstractmethod
    def get_file(self, sha256: str, dest: str | os.PathLike[str]) -> Path:
        """Copy the blob to `dest`, verified; returns `dest`."""

    @abstractmethod
    def exists(self, sha256: str) -> bool: ...


class FsspecArtifactStore(ArtifactStore):
    """`ArtifactStore` on any fsspec filesystem: a local folder by default, s3:// for teams."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        try:
            self._fs, self._root = fsspec.core.url_to_fs(uri)
        except (ImportError, ValueError) as exc:
            raise StoreUnavailableError(
                f"cannot open artifact store {uri!r}: {exc}",
                hint="check LOOPLINE_ARTIFACTS_URI; s3:// needs `pip install loopline[s3]`",
            ) from None
        self._local = "file" in (
            self._fs.protocol if isinstance(self._fs.protocol, tuple) else (self._fs.protocol,)
        )

    def _blob(self, sha256: str) -> str:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise NotFoundError(f"{sha256!r} is not a sha256 digest", hint="pass 64 hex digits")
        return f"{self._root}/sha256/{sha256[:2]}/{sha256}"

    def exists(self, sha256: str) -> bool:
        return bool(self._fs.exists(self._blob(sha256)))

    def put_file(self, path: str | os.PathLike[str]) -> tuple[str, int]:
        digest, size = sha256_file(path)
        target = self._blob(digest)
        if self._fs.exists(target):
            return digest, size
        if self._local:
            folder = Path(target).parent
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".tmp-{uuid.uuid4().hex}"
            try:
                with open(path, "rb") as src, open(tmp, "wb") as dst:
                    while chunk := src.read(_CHUNK):
                        dst.write(chunk)
                    dst.flush()
                    os.fsync(dst.fileno())
                os.replace(tmp, target)  # atomic on POSIX: readers see all or nothing
            finally:
                tmp.unlink(missing_ok=True)
        else:
            # Object stores publish an object only when its (multipart) upload completes,
            # which is the atomicity a rename gives on a local disk.
            self._fs.put_file(str(path), target)
        return digest, size

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        digest = hashlib.sha256(data).hexdigest()
        if self._fs.exists(self._blob(digest)):
            return digest, len(data)
        with tempfile.NamedTemporaryFile(delete=False) as f:
            f.write(data)
        try:
            return self.put_file(f.name)
        finally:
            os.unlink(f.name)

    def _open(self, sha256: str) -> BinaryIO:
        try:
            return self._fs.open(self._blob(sha256), "rb")  # type: ignore[no-any-return]
        except FileNotFoundError:
            raise NotFoundError(
                f"artifact {sha256[:12]} is missing from {self.uri}",
                hint="the artifact store was moved or pruned; point LOOPLINE_ARTIFACTS_URI at it",
            ) from None

    def _corrupted(self, sha256: str, actual: str) -> ArtifactCorruptedError:
        return ArtifactCorruptedError(
            f"artifact {sha256[:12]} in {self.uri} is corrupted: "
            f"its content hashes to {actual[:12]}",
            hint="restore the blob from a backup or re-log the artifact; it was not loaded",
            details={"expected": sha256, "actual": actual},
        )

    def get_bytes(self, sha256: str) -> bytes:
        with self._open(sha256) as f:
            data = f.read()
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise self._corrupted(sha256, actual)
        return data

    def get_file(self, sha256: str, dest: str | os.PathLike[str]) -> Path:
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.tmp-{uuid.uuid4().hex}")
        h = hashlib.sha256()
        try:
            with self._open(sha256) as src, open(tmp, "wb") as out:
                while chunk := src.read(_CHUNK):
                    h.update(chunk)
                    out.write(chunk)
            if h.hexdigest() != sha256:
                raise self._corrupted(sha256, h.hexdigest())
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
        return dest


__all__ = ["ArtifactStore", "FsspecArtifactStore", "sha256_file"]
