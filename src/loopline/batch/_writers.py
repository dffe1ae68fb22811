"""Streaming Parquet and CSV output: appended chunk by chunk, renamed into place at the end.

Chunks go to a hidden temporary file beside the output, so a run that fails mid-way leaves no
partial output and keeps any earlier file intact. A background thread encodes and writes
them: Arrow's writers release the GIL, so the file is written while the next chunk is scored.
"""

from __future__ import annotations

import os
import queue
import shutil
import threading
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from loopline.batch._readers import PARQUET, file_format
from loopline.errors import InvalidInputError, LooplineError


class Sink:
    """Appends tables to a temporary file beside `path`; `commit` renames it into place.

    `write` hands the table to the writing thread and returns; it waits only while the thread
    is still busy with the previous table, so at most two chunks of output are held.
    """

    def __init__(self, path: Path) -> None:
        self.format = file_format(path, "output")
        if not path.parent.is_dir():
            raise InvalidInputError(
                f"cannot write {path}: folder {path.parent} does not exist",
                hint="create the folder first, or choose another output path",
            )
        self.path = path
        self.temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.part")
        self._writer: Any = None
        self._schema: pa.Schema | None = None
        self._pending: queue.Queue[pa.Table | None] = queue.Queue(maxsize=1)
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """The output's column names, once a chunk has been written."""
        return () if self._schema is None else tuple(self._schema.names)

    def write(self, table: pa.Table) -> None:
        if self._failure is not None:
            raise self._failure
        if self._thread is None:
            self._thread = threading.Thread(target=self._drain, name="loopline-write", daemon=True)
            self._thread.start()
        self._pending.put(table)

    def commit(self) -> None:
        """Wait for every chunk to be written, close the file and move it into place."""
        self._stop()
        if self._failure is not None:
            raise self._failure
        self._close()
        os.replace(self.temp, self.path)

    def abort(self) -> None:
        """Stop writing and delete the temporary file; the output path is left untouched."""
        try:
            self._stop()
            self._close()
        finally:
            self.temp.unlink(missing_ok=True)

    def _drain(self) -> None:
        while (table := self._pending.get()) is not None:
            if self._failure is not None:
                continue  # keep taking tables so `write` never blocks on a dead writer
            try:
                self._append(table)
            except BaseException as exc:  # raised in the scoring thread, at its next call
                self._failure = exc

    def _append(self, table: pa.Table) -> None:
        try:
            if self._schema is None:
                # The first chunk fixes the schema; later chunks are cast to it, so a chunk
                # whose labels happen to infer another type cannot make a file mixing two.
                self._schema = table.schema
                if self.format == PARQUET:
                    self._writer = pq.ParquetWriter(self.temp, self._schema)
                else:
                    self._writer = pacsv.CSVWriter(self.temp, self._schema)
            elif table.schema != self._schema:
                table = table.cast(self._schema)
            self._writer.write_table(table)
        except (pa.ArrowException, OSError) as exc:
            why = " ".join(str(exc).split())
            raise LooplineError(
                f"cannot write {self.path}: {why}",
                hint="check the folder's free space and permissions",
            ) from exc

    def _stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._pending.put(None)
            thread.join()

    def _close(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()

    def __enter__(self) -> Sink:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # Committing is explicit; leaving the block any other way (errors, Ctrl-C) discards.
        self.abort()


def is_folder_output(path: Path) -> bool:
    """An output without an extension (or an existing folder) is a folder of partitions."""
    return path.is_dir() or not path.suffix


class PartSink(Sink):
    """Partitioned output: each table becomes `part-00000.parquet`, `part-00001.parquet`, …
    in a hidden folder beside `path`, renamed into place by `commit` (an earlier folder at
    `path` is replaced only then). Reading the folder in name order gives the rows in order.
    """

    def __init__(self, path: Path) -> None:
        check_folder_output(path)
        self.format = PARQUET
        self.path = path
        self.temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.part")
        self.temp.mkdir()
        self._writer = None
        self._schema = None
        self._pending = queue.Queue(maxsize=1)
        self._thread = None
        self._failure = None
        self._parts = 0

    def _append(self, table: pa.Table) -> None:
        try:
            if self._schema is None:
                self._schema = table.schema
            elif table.schema != self._schema:
                table = table.cast(self._schema)
            pq.write_table(table, self.temp / f"part-{self._parts:05d}.parquet")
            self._parts += 1
        except (pa.ArrowException, OSError) as exc:
            why = " ".join(str(exc).split())
            raise LooplineError(
                f"cannot write {self.path}: {why}",
                hint="check the folder's free space and permissions",
            ) from exc

    def commit(self) -> None:
        self._stop()
        if self._failure is not None:
            raise self._failure
        replace_folder(self.temp, self.path)

    def abort(self) -> None:
        try:
            self._stop()
        finally:
            shutil.rmtree(self.temp, ignore_errors=True)


def check_folder_output(path: Path) -> None:
    """Refuse a partition folder that cannot be written, before any work is done."""
    if path.exists() and not path.is_dir():
        raise InvalidInputError(
            f"cannot write partitions to {path}: it is a file",
            hint="name a folder (no extension) for partitioned output, or a .parquet file",
        )
    if not path.parent.is_dir():
        raise InvalidInputError(
            f"cannot write {path}: folder {path.parent} does not exist",
            hint="create the folder first, or choose another output path",
        )


def replace_folder(temp: Path, path: Path) -> None:
    """Move the finished folder `temp` to `path`, replacing a folder already there."""
    old = None
    if path.exists():
        old = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.old")
        os.replace(path, old)
    os.replace(temp, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


__all__ = ["PartSink", "Sink", "check_folder_output", "is_folder_output", "replace_folder"]
