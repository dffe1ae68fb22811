"""Batch scoring: a registered model over a Parquet or CSV file, chunk by chunk.

Memory stays flat: the input is streamed in chunks, each chunk is scored and appended to a
temporary output file, renamed into place only once every row is scored.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from loopline.batch._chunk import ChunkScorer, version_column
from loopline.batch._engine import ComputeEngine, close_iterator, resolve_engine
from loopline.batch._readers import (
    PANDAS_INDEX,
    PARQUET,
    Source,
    file_format,
    open_source,
    rechunk,
)
from loopline.batch._writers import PartSink, Sink, is_folder_output, replace_folder
from loopline.errors import InvalidInputError
from loopline.models import LoadedModel, Signature
from loopline.registry import get_version, load_model

if TYPE_CHECKING:
    from loopline.data import Contract

Progress = Callable[[int, int | None], None]
"""Called with (rows done, total rows if the input records it): once before the first chunk,
then after each chunk is written."""


@dataclass(frozen=True)
class ScoreReport:
    """What a `score` call did: which model, which files, how many rows, how long."""

    model_uri: str
    model_version: str
    model_sha256: str
    input: str
    output: str
    rows: int
    chunks: int
    id_columns: tuple[str, ...]
    output_columns: tuple[str, ...]
    engine: str
    seconds: float
    contract: str | None = None
    quarantined_rows: int = 0
    contract_warnings: tuple[str, ...] = ()

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rows_per_second": self.rows_per_second}


def _numbered(tables: Iterable[pa.Table]) -> Iterator[tuple[int, pa.Table]]:
    start = 0
    for table in tables:
        yield start, table
        start += table.num_rows


def _load(uri: str) -> tuple[LoadedModel, str]:
    """The model and its version tag (`churn/3`). An alias is resolved once, so every chunk
    is scored by the same version even if the alias moves during the run."""
    if uri.startswith("runs:/"):
        return load_model(uri), uri
    version = get_version(uri)
    return load_model(version.uri), f"{version.model}/{version.version}"


def _csv_types(signature: Signature | None) -> dict[str, pa.DataType]:
    """Arrow types for the features, so CSV parsing agrees with what the model was fit on."""
    types: dict[str, pa.DataType] = {}
    for spec in signature.inputs if signature is not None else ():
        if spec.dtype == "string" or (
            spec.dtype == "category" and all(isinstance(c, str) for c in spec.categories or ())
        ):
            types[spec.name] = pa.string()  # "02134" is a zip code, not the number 2134
            continue
        try:
            dtype = np.dtype(spec.dtype)
        except TypeError:
            continue
        if dtype.kind in "biuf":
            types[spec.name] = pa.from_numpy_dtype(dtype)
    return types


def _plan(
    source: Source, model: LoadedModel, version: str, id_columns: Sequence[str] | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(features, ids). Ids default to every input column the model does not read."""
    present = set(source.columns)
    if id_columns is not None:
        unknown = [c for c in id_columns if c not in present]
        if unknown:
            raise InvalidInputError(
                f"id column {unknown[0]!r} is not in {source.path}",
                hint=f"choose among its columns: {', '.join(source.columns)}",
            )
    if model.signature is None:
        # Without a signature the model reads every column that is not an id.
        ids = tuple(id_columns or ())
        return tuple(c for c in source.columns if c not in ids), ids
    features = model.signature.input_names
    missing = [c for c in features if c not in present]
    if missing:
        dtypes = {c.name: c.dtype for c in model.signature.inputs}
        listed = ", ".join(f"{c!r} ({dtypes[c]})" for c in missing)
        raise InvalidInputError(
            f"{source.path} has no column {listed}, which model {version} reads"
            if len(missing) == 1
            else f"{source.path} lacks {len(missing)} columns model {version} reads: {listed}",
            hint="add the column(s) to the input, or score with a model trained without them",
        )
    if id_columns is not None:
        return features, tuple(dict.fromkeys(id_columns))
    wanted = set(features)
    kept = (c for c in source.columns if c not in wanted and not PANDAS_INDEX.fullmatch(c))
    return features, tuple(kept)


def score(
    uri: str,
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    chunk_size: int = 100_000,
    id_columns: Sequence[str] | None = None,
    contract: str | os.PathLike[str] | None = None,
    engine: str | ComputeEngine | None = None,
    progress: Progress | None = None,
) -> ScoreReport:
    """Score every row of `input` (.parquet, .csv, .csv.gz) with the model at `uri` and
    write `output` (.parquet or .csv): the id columns, `prediction`, `probability` (binary
    classifiers) or `probability_<class>` (one per class), and `model_version`.

    Ids are the input columns the model does not read, unless `id_columns` names them. With
    a `contract`, each chunk is validated first: a failing `error` rule stops the run,
    rows set aside by `quarantine` rules are not scored (see `ScoreReport.quarantined_rows`).
    Nothing is written at `output` unless every chunk succeeds.

    `input` may be a folder of Parquet partitions (read in path order). An `output` without
    an extension is a folder of partitions, `part-00000.parquet`, … (rows in input order).
    `engine`: "local", "ray", an engine object, or None for `LOOPLINE_ENGINE` (default
    local). With the Ray engine, Parquet input and folder output, Ray Data reads, scores and
    writes on the cluster; otherwise the chunks are read and written here and scored by the
    engine.
    """
    started = time.perf_counter()
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise InvalidInputError(
            f"chunk_size must be a positive whole number, got {chunk_size!r}",
            hint="e.g. 100000 rows per chunk",
        )
    src, dst = Path(input), Path(output)
    folder = is_folder_output(dst)
    if not folder:
        file_format(dst, "output")  # refuse a bad output name before any work is done
    if dst.resolve() == src.resolve():
        raise InvalidInputError(
            f"output {dst} is the input file", hint="write the scores to another file"
        )
    runner = resolve_engine(engine)
    model, version = _load(uri)
    source = open_source(src, _csv_types(model.signature))
    features, ids = _plan(source, model, version, id_columns)
    spec = None if contract is None else _load_contract(contract)
    columns = source.columns if spec is not None else tuple(dict.fromkeys(ids + features))
    longest = min(chunk_size, source.total_rows or chunk_size)
    scorer = ChunkScorer(
        model, version, features, ids, src.name, _per_chunk(spec), version_column(version, longest)
    )
    rows = n_chunks = quarantined = 0
    warned: dict[str, None] = {}
    if progress is not None:
        progress(0, source.total_rows)  # a bar can show the total before the first chunk
    score_dataset = getattr(runner, "score_dataset", None)
    if folder and source.format == PARQUET and callable(score_dataset):
        if dst.exists() and not dst.is_dir():
            raise InvalidInputError(
                f"cannot write partitions to {dst}: it is a file",
                hint="name a folder (no extension) for partitioned output, or a .parquet file",
            )
        temp = dst.with_name(f".{dst.name}.{uuid.uuid4().hex[:12]}.part")
        temp.mkdir()
        try:
            done = score_dataset(
                scorer, source.files or (src,), columns, temp, chunk_size, spec is not None
            )
            rows, n_chunks = done.rows, done.parts
            quarantined, warned = done.quarantined_rows, dict.fromkeys(done.warnings)
            _check_counts(src, rows, quarantined)
            if spec is not None:
                _check_file_rules(spec, rows + quarantined, src.name)
            out_columns = tuple(pq_schema_names(temp))
            replace_folder(temp, dst)
        finally:
            shutil.rmtree(temp, ignore_errors=True)
        if progress is not None:
            progress(rows + quarantined, source.total_rows)
        return _report(
            uri,
            version,
            model,
            src,
            dst,
            rows,
            n_chunks,
            ids,
            out_columns,
            runner,
            started,
            contract,
            quarantined,
            tuple(warned),
        )
    chunks = _numbered(rechunk(source.batches(columns, chunk_size), chunk_size))
    with PartSink(dst) if folder else Sink(dst) as sink:
        results = runner.map_chunks(scorer, chunks)
        try:
            for scored in results:
                if scored.table is not None:
                    sink.write(scored.table)
                    rows += scored.table.num_rows
                n_chunks += 1
                quarantined += scored.quarantined_rows
                warned.update(dict.fromkeys(scored.warnings))
                if progress is not None:
                    progress(rows + quarantined, source.total_rows)
        finally:
            close_iterator(results)  # on failure, stop the engine before the output is removed
        _check_counts(src, rows, quarantined)
        if spec is not None:
            _check_file_rules(spec, rows + quarantined, src.name)
        sink.commit()
        out_columns = tuple(sink.columns)
    return _report(
        uri,
        version,
        model,
        src,
        dst,
        rows,
        n_chunks,
        ids,
        out_columns,
        runner,
        started,
        contract,
        quarantined,
        tuple(warned),
    )


def _check_counts(src: Path, rows: int, quarantined: int) -> None:
    if rows + quarantined == 0:
        raise InvalidInputError(f"input file {src} has no rows", hint="nothing to score")
    if rows == 0:
        raise InvalidInputError(
            f"the contract's quarantine rules set all {quarantined:,} rows of {src} aside",
            hint="nothing was scored; look at the data, or at the contract",
        )


def pq_schema_names(folder: Path) -> list[str]:
    """The column names of a folder of Parquet parts (its first part's schema)."""
    import pyarrow.parquet as pq

    first = min(folder.glob("part-*.parquet"))
    return list(pq.ParquetFile(first).schema_arrow.names)


def _report(
    uri: str,
    version: str,
    model: LoadedModel,
    src: Path,
    dst: Path,
    rows: int,
    n_chunks: int,
    ids: tuple[str, ...],
    out_columns: tuple[str, ...],
    runner: ComputeEngine,
    started: float,
    contract: str | os.PathLike[str] | None,
    quarantined: int,
    warned: tuple[str, ...],
) -> ScoreReport:
    return ScoreReport(
        model_uri=uri,
        model_version=version,
        model_sha256=model.sha256,
        input=str(src),
        output=str(dst),
        rows=rows,
        chunks=n_chunks,
        id_columns=ids,
        output_columns=out_columns,
        engine=runner.name,
        seconds=time.perf_counter() - started,
        contract=None if contract is None else str(contract),
        quarantined_rows=quarantined,
        contract_warnings=warned,
    )


def _load_contract(path: str | os.PathLike[str]) -> Contract:
    from loopline.data import load_contract  # the data layer loads only when a contract is used

    return load_contract(path)


def _per_chunk(contract: Contract | None) -> Contract | None:
    """The contract each chunk is held to: without the rules about the whole file's row
    count, which a chunk's size says nothing about (they are checked once, at the end)."""
    if contract is None:
        return None
    return contract.model_copy(update={"row_count": None, "row_count_trend": None})


def _check_file_rules(contract: Contract, rows: int, name: str) -> None:
    from loopline.data import Contract, validate

    if contract.row_count is None and contract.row_count_trend is None:
        return
    whole = Contract(
        name=contract.name,
        severity=contract.severity,
        row_count=contract.row_count,
        row_count_trend=contract.row_count_trend,
    )
    # Only the count matters to these rules: a frame of `rows` rows and no columns is enough.
    validate(pd.DataFrame(index=pd.RangeIndex(rows)), whole).raise_for_errors(name)


__all__ = ["Progress", "ScoreReport", "score"]
