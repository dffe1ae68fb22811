"""Reading tables from files, with a clear verdict when a file is not what it claims to be.

The first bytes decide, not the extension alone: a `.parquet` file that is really CSV text, an
empty export, or a truncated Parquet file each get one sentence saying what was found and how
to fix it, instead of a parser traceback.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.ipc as ipc

from loopline.data._errors import DataReadError
from loopline.data._profile import as_frame

FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".arrow": "arrow",
    ".feather": "arrow",
    ".ipc": "arrow",
}
_COMPRESSED = {".gz", ".bz2", ".xz", ".zst", ".zip"}
_NAMES = {
    "parquet": "a Parquet file",
    "arrow": "an Arrow IPC file",
    "text": "text (CSV?)",
    "gzip": "gzip-compressed data",
    "zip": "a zip archive (an Excel workbook?)",
    "binary": "binary data of an unknown kind",
}


def sniff(path: Path) -> str:
    """parquet | arrow | gzip | zip | text | binary, from the first bytes."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"ARROW1") or head.startswith(b"\xff\xff\xff\xff"):
        return "arrow"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the 4096-byte read is still text.
        if exc.start < len(head) - 4:
            return "binary"
    return "binary" if b"\x00" in head else "text"


def format_of(path: Path) -> str | None:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSED:
        suffixes = suffixes[:-1]
    return FORMATS.get(suffixes[-1]) if suffixes else None


def _refuse(path: Path, expected: str, found: str) -> DataReadError:
    fix = {"parquet": ".parquet", "arrow": ".arrow", "text": ".csv"}.get(found)
    hint = f"rename it to {path.stem}{fix} or pass the right format" if fix else "re-export it"
    return DataReadError(
        f"{path} is not {_NAMES.get(expected, expected)}: it contains {_NAMES[found]}", hint=hint
    )


def read_table(path: str | os.PathLike[str], format: str | None = None) -> pd.DataFrame:
    """A DataFrame from CSV/TSV (optionally compressed), Parquet (file or folder) or Arrow IPC."""
    p = Path(path)
    if not p.exists():
        raise DataReadError(f"data file {str(p)!r} does not exist", hint="check the path")
    if p.is_dir():
        return _parquet(p)
    if p.stat().st_size == 0:
        raise DataReadError(
            f"{p} is empty (0 bytes)", hint="the job that wrote it probably failed; re-run it"
        )
    found = sniff(p)
    fmt = format or format_of(p)
    if fmt is None:
        if found in ("parquet", "arrow", "text"):
            fmt = "csv" if found == "text" else found
        else:
            raise DataReadError(
                f"cannot tell the format of {p} (extension {p.suffix or 'none'}, "
                f"content: {_NAMES[found]})",
                hint="use .csv, .tsv, .parquet or .arrow, or pass --format",
            )
    if fmt == "parquet":
        if found != "parquet":
            raise _refuse(p, "parquet", found)
        return _parquet(p)
    if fmt == "arrow":
        if found != "arrow":
            raise _refuse(p, "arrow", found)
        return _arrow(p)
    if fmt in ("csv", "tsv"):
        compressed = p.suffix.lower() in _COMPRESSED
        if found in ("parquet", "arrow", "binary") or (found in ("gzip", "zip") and not compressed):
            raise _refuse(p, "text", found)
        return _csv(p, "\t" if fmt == "tsv" else ",")
    raise DataReadError(f"unknown format {fmt!r}", hint="use csv, tsv, parquet or arrow")


def _parquet(p: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(p)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataReadError(
            f"{p} is not a readable Parquet file: {str(exc).splitlines()[0]}",
            hint="it may be truncated or still being written; re-export it",
        ) from None


def _arrow(p: Path) -> pd.DataFrame:
    try:
        with p.open("rb") as fh:
            head = fh.read(6)
        reader: Any = ipc.open_file(p) if head == b"ARROW1" else ipc.open_stream(p)
        return as_frame(reader.read_all())
    except (pa.ArrowException, OSError) as exc:
        raise DataReadError(
            f"{p} is not a readable Arrow file: {str(exc).splitlines()[0]}", hint="re-export it"
        ) from None


def _csv(p: Path, sep: str) -> pd.DataFrame:
    try:
        return pd.read_csv(p, sep=sep, low_memory=False)
    except pd.errors.EmptyDataError:
        raise DataReadError(
            f"{p} has no header line (only blank lines)",
            hint="the first line must name the columns",
        ) from None
    except pd.errors.ParserError as exc:
        raise DataReadError(
            f"{p} is not valid CSV: {str(exc).strip()}", hint="check quoting and separators"
        ) from None
    except UnicodeDecodeError as exc:
        raise DataReadError(
            f"{p} is not UTF-8 text (byte {exc.start})", hint="re-export it as UTF-8"
        ) from None


def load_frame(data: Any, format: str | None = None) -> tuple[pd.DataFrame, str | None]:
    """A DataFrame from a path or any in-memory table, and where it came from (for reports)."""
    if isinstance(data, str | os.PathLike):
        return read_table(data, format), str(data)
    return as_frame(data), None


def write_table(df: pd.DataFrame, path: Path) -> Path:
    """Write .parquet (default) or .csv; object columns of mixed types are written as text."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if format_of(path) in ("csv", "tsv"):
        df.to_csv(path, index=False, sep="\t" if format_of(path) == "tsv" else ",")
        return path
    try:
        df.to_parquet(path, index=False)
    except (pa.ArrowException, TypeError, ValueError):
        mixed = {c: df[c].astype("str") for c in df.columns if df[c].dtype == object}
        df.assign(**mixed).to_parquet(path, index=False)
    return path


__all__ = ["FORMATS", "format_of", "load_frame", "read_table", "sniff", "write_table"]
