"""Content-addressed artifact store: a local folder, or any fsspec filesystem.

A blob lives at `<root>/sha256/<first two hex>/<full hex>`. Writing the same bytes twice
stores them once. Every read recomputes the sha256 and refuses a mismatch.

A reader never sees half a blob:
- local folder: the bytes go to a temporary name, are fsync'ed and renamed into place;
- object stores (s3://, gs://, ...): an object becomes visible only when its upload completes,
  which is the atomicity a rename gives on disk (S3 has no rename; copying a large blob to
  "rename" it would cost a second upload). Large files go up as a multipart upload streamed
  from disk in `part_size` parts (s3fs aborts the upload on failure, leaving no object); the
  object's size is checked after the upload and a short one is deleted and reported.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from abc import ABC, abstractmethod
from functools import cached_property
from pathlib import Path
from typing import Any, BinaryIO

from loopline.errors import ArtifactCorruptedError, NotFoundError, StoreUnavailableError

_CHUNK = 1 << 20
_OBJECT_HINT = (
    "check that the bucket exists, that the credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY "
    "or ~/.aws) may read and write it, and for an S3-compatible server AWS_ENDPOINT_URL"
)


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
    """`ArtifactStore` on any fsspec filesystem: a local folder by default, s3:// for teams.

    `storage_options` go to the fsspec filesystem (e.g. s3fs's `client_kwargs`); without them
    s3fs reads the usual AWS_* environment variables and ~/.aws files. A local folder (a
    path or a file:// URI, without options) is read and written with plain file calls, so
    a command that verifies a model never imports fsspec (~20 ms).
    """

    # Object stores: files from 2 x part_size up are uploaded in parts of this size (S3 allows
    # 5 MiB to 5 GiB per part and 10,000 parts: 16 MiB parts cover blobs up to 156 GiB).
    part_size = 16 * 1024 * 1024

    def __init__(self, uri: str, **storage_options: Any) -> None:
        self.uri = uri
        self._options = storage_options

    @cached_property
    def _folder(self) -> Path | None:
        """The local folder of the store, None for any other filesystem. Resolved on first
        use, like fsspec would resolve it (relative to the working directory then)."""
        return _local_folder(self.uri, self._options)

    @cached_property
    def _filesystem(self) -> tuple[Any, str, bool]:
        """(fsspec filesystem, root path, is local) of a store that is not a plain local
        folder, resolved on first use: fsspec and s3fs are slow to import."""
        import fsspec

        try:
            fs, root = fsspec.core.url_to_fs(self.uri, **self._options)
        except (ImportError, ValueError) as exc:
            raise StoreUnavailableError(
                f"cannot open artifact store {self.uri!r}: {exc}",
                hint="check LOOPLINE_ARTIFACTS_URI; s3:// needs `pip install loopline[s3]`",
            ) from None
        return fs, root, "file" in _protocols(fs)

    @property
    def _fs(self) -> Any:
        return self._filesystem[0]

    @property
    def _root(self) -> str:
        return str(self._folder) if self._folder is not None else self._filesystem[1]

    @property
    def _local(self) -> bool:
        """A filesystem with rename (a folder), as opposed to an object store."""
        return self._folder is not None or self._filesystem[2]

    def _blob(self, sha256: str) -> str:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise NotFoundError(f"{sha256!r} is not a sha256 digest", hint="pass 64 hex digits")
        return f"{self._root}/sha256/{sha256[:2]}/{sha256}"

    def _unavailable(self, doing: str, exc: BaseException) -> StoreUnavailableError:
        return StoreUnavailableError(
            f"cannot {doing} artifact store {self.uri}: {type(exc).__name__}: {exc}",
            hint=_OBJECT_HINT if not self._local else "check the folder's permissions and space",
            details={"uri": self.uri},
        )

    def exists(self, sha256: str) -> bool:
        target = self._blob(sha256)
        if self._folder is not None:
            return os.path.lexists(target)  # what fsspec's local filesystem answers
        try:
            return bool(self._fs.exists(target))
        except Exception as exc:  # botocore/aiohttp errors are not OSErrors
            raise self._unavailable("reach", exc) from exc

    def put_file(self, path: str | os.PathLike[str]) -> tuple[str, int]:
        digest, size = sha256_file(path)
        target = self._blob(digest)
        if self.exists(digest):
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
            self._put_object(str(path), target, size)
        return digest, size

    def _put_object(self, path: str, target: str, size: int) -> None:
        # Object stores publish an object only when its (multipart) upload completes: no
        # temporary key needed. Then check what landed; reads check the sha256 every time.
        kwargs: dict[str, Any] = {}
        if "s3" in _protocols(self._fs):
            kwargs["chunksize"] = self.part_size  # s3fs: multipart from 2 parts up
        try:
            self._fs.put_file(path, target, **kwargs)
            self._fs.invalidate_cache(target)
            landed = int(self._fs.info(target)["size"])
        except Exception as exc:
            raise self._unavailable("write to", exc) from exc
        if landed != size:
            self._fs.rm_file(target)
            raise StoreUnavailableError(
                f"upload of {path} to {self.uri} stored {landed} of {size} bytes; removed it",
                hint="retry; if it persists, check the object store's health and quotas",
                details={"uri": self.uri, "expected": size, "stored": landed},
            )

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        digest = hashlib.sha256(data).hexdigest()
        if self.exists(digest):
            return digest, len(data)
        with tempfile.NamedTemporaryFile(delete=False) as f:
            f.write(data)
        try:
            return self.put_file(f.name)
        finally:
            os.unlink(f.name)

    def _open(self, sha256: str) -> BinaryIO:
        target = self._blob(sha256)
        try:
            if self._folder is not None:
                return open(target, "rb")  # the caller closes it
            if not self._local:
                self._fs.invalidate_cache(target)  # the size must be the object's current one
            return self._fs.open(target, "rb", block_size=_READ_BLOCK)  # type: ignore[no-any-return]
        except FileNotFoundError:
            raise NotFoundError(
                f"artifact {sha256[:12]} is missing from {self.uri}",
                hint="the artifact store was moved or pruned; point LOOPLINE_ARTIFACTS_URI at it",
            ) from None
        except Exception as exc:
            raise self._unavailable("read from", exc) from exc

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


_READ_BLOCK = 8 * _CHUNK  # object stores: ranged GETs of 8 MiB while a blob streams through


def _protocols(fs: Any) -> tuple[str, ...]:
    return fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)


def _local_folder(uri: str, options: dict[str, Any]) -> Path | None:
    """The folder a local URI names (a path, file:// or local://), read the way fsspec
    reads it (~ expanded, relative to the working directory); None for anything else,
    including chained URLs ("simplecache::s3://...") and a local URI with storage options
    (fsspec's local filesystem takes options of its own)."""
    if options or "::" in uri or uri.startswith("data:"):
        return None
    scheme, sep, _ = uri.partition("://")
    # fsspec reads a one-letter scheme as a Windows drive
    if sep and len(scheme) > 1 and scheme not in ("file", "local"):
        return None
    for prefix in ("file://", "file:", "local://", "local:"):
        if uri.startswith(prefix):
            uri = uri.removeprefix(prefix)
            break
    return Path(uri).expanduser().absolute()


__all__ = ["ArtifactStore", "FsspecArtifactStore", "sha256_file"]
