"""Streaming Parquet and CSV input: a file read in chunks of rows, never whole.

Parquet row groups are decoded page by page (a default pandas export is one row group for the
whole file), CSV is parsed block by block, so memory depends on the chunk size, not the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from loopline.errors import InvalidInputError

PARQUET, CSV = "parquet", "csv"
_SUFFIXES = {".parquet": PARQUET, ".pq": PARQUET, ".csv": CSV, ".gz": CSV, ".bz2": CSV}
# pandas writes an unnamed index as a column of this name: bookkeeping, not an id.
PANDAS_INDEX = re.compile(r"__index_level_\d+__")
# Bytes per read when decoding a Parquet column chunk: without it pyarrow reads whole column
# chunks up front, i.e. a whole row group, which for a default pandas export is the whole file.
_PARQUET_BUFFER = 1 << 20
_CSV_BLOCK = 4 << 20


def file_format(path: Path, role: str) -> str:
    """PARQUET or CSV, from `path`'s extension (`.csv.gz` and `.csv.bz2` are CSV too)."""
    suffixes = [s.lower() for s in path.suffixes[-2:]]
    fmt = _SUFFIXES.get(suffixes[-1]) if suffixes else None
    if fmt == CSV and suffixes[-1] in (".gz", ".bz2") and suffixes[0] != ".csv":
        fmt = None
    if fmt is None or (role == "output" and suffixes[-1] in (".gz", ".bz2")):
        kinds = ".parquet or .csv" if role == "output" else ".parquet, .csv or .csv.gz"
        raise InvalidInputError(
            f"cannot use {path} as {role}: unknown extension {path.suffix or '(none)'}",
            hint=f"name the {role} file {kinds}",
        )
    return fmt


def _unreadable(path: Path, exc: Exception) -> InvalidInputError:
    # pyarrow's messages can span lines; the CLI promises one.
    why = " ".join(str(exc).split())
    return InvalidInputError(
        f"cannot read {path}: {why}", hint="is the file complete and what its extension says?"
    )


@dataclass
class Source:
    """An input file: its columns, its row count when the format records it, and its rows."""

    path: Path
    format: str
    columns: tuple[str, ...]
    total_rows: int | None
    _types: Mapping[str, pa.DataType]
    # A folder of Parquet partitions: its files in name order (read in that order, one after
    # the other, as if they were one file). A single file: just that file.
    files: tuple[Path, ...] = ()

    @property
    def partitioned(self) -> bool:
        return self.path.is_dir()

    def batches(self, columns: Sequence[str], rows: int) -> Iterator[pa.RecordBatch]:
        """Record batches of `columns` in file order: of `rows` rows for Parquet (fewer at
        row-group ends), of a few MiB of text for CSV. Decoding a whole batch in one call lets
        a reading thread run without the GIL while another thread computes."""
        for path in self.files or (self.path,):
            try:
                if self.format == PARQUET:
                    pf = pq.ParquetFile(path, buffer_size=_PARQUET_BUFFER, pre_buffer=False)
                    yield from pf.iter_batches(batch_size=rows, columns=list(columns))
                else:
                    yield from _open_csv(path, self._types, list(columns))
            except (pa.ArrowException, OSError) as exc:
                raise _unreadable(path, exc) from None


def _open_csv(
    path: Path, types: Mapping[str, pa.DataType], columns: list[str] | None = None
) -> pacsv.CSVStreamingReader:
    # Types are inferred from the first block only; feature columns get the model's types so
    # that a later block cannot contradict the guess (an int column that turns out float).
    convert = pacsv.ConvertOptions(column_types=dict(types), include_columns=columns)
    return pacsv.open_csv(
        path, read_options=pacsv.ReadOptions(block_size=_CSV_BLOCK), convert_options=convert
    )


def parquet_parts(folder: Path) -> tuple[Path, ...]:
    """The Parquet files under `folder` (partitions, at any depth), in path order; hidden
    files and folders (`.x.part`, `_SUCCESS`-style markers) are not data."""
    parts = [
        p
        for p in folder.rglob("*")
        if p.suffix.lower() in (".parquet", ".pq")
        and p.is_file()
        and not any(n.startswith((".", "_")) for n in p.relative_to(folder).parts)
    ]
    return tuple(sorted(parts, key=lambda p: p.relative_to(folder).as_posix()))


def _open_folder(path: Path, types: Mapping[str, pa.DataType]) -> Source:
    files = parquet_parts(path)
    if not files:
        raise InvalidInputError(
            f"input folder {path} holds no .parquet files",
            hint="point --input at a Parquet file, a CSV file, or a folder of Parquet partitions",
        )
    total = 0
    schema: pa.Schema | None = None
    for part in files:
        try:
            meta = pq.ParquetFile(part)
            total += meta.metadata.num_rows
            if schema is None:
                schema = meta.schema_arrow
            elif not meta.schema_arrow.equals(schema):
                raise InvalidInputError(
                    f"partition {part} does not have the columns of {files[0]}",
                    hint="every partition of a folder must share one schema",
                )
        except (pa.ArrowException, OSError) as exc:
            raise _unreadable(part, exc) from None
    if total == 0:
        raise InvalidInputError(f"input folder {path} has no rows", hint="nothing to score")
    assert schema is not None
    return Source(path, PARQUET, tuple(schema.names), total, types, files)


def open_source(path: Path, types: Mapping[str, pa.DataType]) -> Source:
    """The input at `path` (a file, or a folder of Parquet partitions), checked to exist, be
    non-empty and be readable as its format."""
    if path.is_dir():
        return _open_folder(path, types)
    fmt = file_format(path, "input")
    if not path.is_file():
        raise InvalidInputError(f"input file {path} does not exist", hint="check the path")
    if path.stat().st_size == 0:
        raise InvalidInputError(f"input file {path} is empty", hint="nothing to score")
    try:
        if fmt == PARQUET:
            pf = pq.ParquetFile(path)
            schema, total = pf.schema_arrow, pf.metadata.num_rows
        else:
            schema, total = _open_csv(path, types).schema, None
    except (pa.ArrowException, OSError) as exc:
        raise _unreadable(path, exc) from None
    if total == 0:
        raise InvalidInputError(f"input file {path} has no rows", hint="nothing to score")
    return Source(path, fmt, tuple(schema.names), total, types)


def rechunk(batches: Iterable[pa.RecordBatch], size: int) -> Iterator[pa.Table]:
    """Tables of exactly `size` rows (the last one shorter), whatever size the batches have.

    Slicing and grouping batches is zero-copy: only the rows of one chunk are ever buffered.
    """
    pending: list[pa.RecordBatch] = []
    rows = 0
    for batch in batches:
        pending.append(batch)
        rows += batch.num_rows
        if rows < size:
            continue
        table = pa.Table.from_batches(pending)
        start = 0
        while rows - start >= size:
            yield table.slice(start, size)
            start += size
        pending = table.slice(start).to_batches() if rows > start else []
        rows -= start
    if rows:
        yield pa.Table.from_batches(pending)


__all__ = [
    "CSV",
    "PANDAS_INDEX",
    "PARQUET",
    "Source",
    "file_format",
    "open_source",
    "parquet_parts",
    "rechunk",
]
