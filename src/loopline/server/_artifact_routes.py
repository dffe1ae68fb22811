"""Artifact blobs over HTTP, streamed both ways and addressed by sha256.

Upload streams the request body to a temporary file while hashing it, and stores it
only if the content hashes to the address it was sent to — a truncated or tampered
upload is refused and leaves nothing behind. Download streams the verified blob.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from loopline.errors import InvalidInputError, NotFoundError
from loopline.identity import authorize
from loopline.store import ArtifactStore

_SHA = re.compile(r"^[0-9a-f]{64}$")


def _digest(sha256: str) -> str:
    if not _SHA.fullmatch(sha256):
        raise InvalidInputError(
            f"{sha256[:80]!r} is not a sha256 digest",
            hint="address blobs by 64 lower-case hex digits",
        )
    return sha256


def artifact_router(artifacts: Callable[[], ArtifactStore]) -> APIRouter:
    router = APIRouter(tags=["artifacts"])

    @router.head("/artifacts/{sha256}", summary="does the blob exist")
    def head(sha256: str) -> Response:
        authorize("read")
        return Response(status_code=200 if artifacts().exists(_digest(sha256)) else 404)

    @router.get(
        "/artifacts/{sha256}",
        summary="download a blob (streamed)",
        response_class=FileResponse,
        responses={200: {"content": {"application/octet-stream": {}}}},
    )
    def download(sha256: str) -> FileResponse:
        authorize("read")
        digest = _digest(sha256)
        store = artifacts()
        if not store.exists(digest):
            raise NotFoundError(f"artifact {digest[:12]} does not exist", hint="check the digest")
        fd, name = tempfile.mkstemp(prefix="loopline-blob-")
        os.close(fd)
        store.get_file(digest, name)  # verified against its sha256 on the way out
        return FileResponse(
            name,
            media_type="application/octet-stream",
            background=BackgroundTask(Path(name).unlink, missing_ok=True),
        )

    @router.put("/artifacts/{sha256}", summary="upload a blob (streamed)", status_code=201)
    async def upload(sha256: str, request: Request) -> dict[str, object]:
        authorize("runs.write")
        digest = _digest(sha256)
        h = hashlib.sha256()
        size = 0
        fd, name = tempfile.mkstemp(prefix="loopline-upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                async for chunk in request.stream():
                    h.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            if h.hexdigest() != digest:
                raise InvalidInputError(
                    f"uploaded content hashes to {h.hexdigest()[:12]}, not {digest[:12]}",
                    hint="the upload was truncated or altered; send it again",
                )
            await run_in_threadpool(artifacts().put_file, name)
        finally:
            Path(name).unlink(missing_ok=True)
        return {"sha256": digest, "size": size}

    return router


__all__ = ["artifact_router"]
