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
from loopline.batch._writers import (
    PartSink,
    Sink,
    check_folder_output,
    is_folder_output,
    replace_folder,
)
from loopline.errors import InvalidInputError
from loopline.models import LoadedModel, Signature

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
    # Imported here, not at the top: a Ray worker unpickling a `ChunkScorer` imports this
    # package, and the registry would bring the whole store and SQLAlchemy with it (~0.5 s
    # of CPU per worker process) for nothing a worker calls.
    from loopline.registry import get_version, load_model

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


@dataclass(frozen=True)
class _Job:
    """One `score` call, resolved: what either way of running it needs."""

    runner: ComputeEngine
    scorer: ChunkScorer
    source: Source
    src: Path
    dst: Path
    columns: tuple[str, ...]
    chunk_size: int
    contract: Contract | None


@dataclass(frozen=True)
class _Done:
    rows: int
    chunks: int
    quarantined: int
    warnings: tuple[str, ...]
    out_columns: tuple[str, ...]


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
    job = _job(runner, model, version, src, dst, chunk_size, id_columns, contract)
    total = job.source.total_rows
    if progress is not None:
        progress(0, total)  # a bar can show the total before the first chunk
    done = _on_engine(job) if folder and job.source.format == PARQUET else None
    if done is None:
        done = _chunked(job, folder, progress)
    elif progress is not None:
        progress(done.rows + done.quarantined, total)
    return ScoreReport(
        model_uri=uri,
        model_version=version,
        model_sha256=model.sha256,
        input=str(src),
        output=str(dst),
        rows=done.rows,
        chunks=done.chunks,
        id_columns=job.scorer.ids,
        output_columns=done.out_columns,
        engine=runner.name,
        seconds=time.perf_counter() - started,
        contract=None if contract is None else str(contract),
        quarantined_rows=done.quarantined,
        contract_warnings=done.warnings,
    )


def _job(
    runner: ComputeEngine,
    model: LoadedModel,
    version: str,
    src: Path,
    dst: Path,
    chunk_size: int,
    id_columns: Sequence[str] | None,
    contract: str | os.PathLike[str] | None,
) -> _Job:
    source = open_source(src, _csv_types(model.signature))
    features, ids = _plan(source, model, version, id_columns)
    spec = None if contract is None else _load_contract(contract)
    columns = source.columns if spec is not None else tuple(dict.fromkeys(ids + features))
    longest = min(chunk_size, source.total_rows or chunk_size)
    scorer = ChunkScorer(
        model, version, features, ids, src.name, _per_chunk(spec), version_column(version, longest)
    )
    return _Job(runner, scorer, source, src, dst, columns, chunk_size, spec)


def _on_engine(job: _Job) -> _Done | None:
    """Parquet in, folder out: scored where the engine reads the data (Ray Data), written
    beside `dst` and moved into place; None when the engine has no such way (the default)."""
    check_folder_output(job.dst)
    temp = job.dst.with_name(f".{job.dst.name}.{uuid.uuid4().hex[:12]}.part")
    temp.mkdir()
    try:
        files = job.source.files or (job.src,)
        wrote = job.runner.score_dataset(
            job.scorer, files, job.columns, temp, job.chunk_size, job.contract is not None
        )
        if wrote is None:
            return None
        rows, quarantined = wrote.rows, wrote.quarantined_rows
        _check_counts(job.src, rows, quarantined)
        if job.contract is not None:
            _check_file_rules(job.contract, rows + quarantined, job.src.name)
        warnings = tuple(dict.fromkeys(wrote.warnings))
        done = _Done(rows, wrote.parts, quarantined, warnings, tuple(pq_schema_names(temp)))
        replace_folder(temp, job.dst)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return done


def _chunked(job: _Job, folder: bool, progress: Progress | None) -> _Done:
    """The chunks read here, scored by the engine, written here in order."""
    rows = n_chunks = quarantined = 0
    warned: dict[str, None] = {}
    chunks = _numbered(rechunk(job.source.batches(job.columns, job.chunk_size), job.chunk_size))
    with PartSink(job.dst) if folder else Sink(job.dst) as sink:
        results = job.runner.map_chunks(job.scorer, chunks)
        try:
            for scored in results:
                if scored.table is not None:
                    sink.write(scored.table)
                    rows += scored.table.num_rows
                n_chunks += 1
                quarantined += scored.quarantined_rows
                warned.update(dict.fromkeys(scored.warnings))
                if progress is not None:
                    progress(rows + quarantined, job.source.total_rows)
        finally:
            close_iterator(results)  # on failure, stop the engine before the output is removed
        _check_counts(job.src, rows, quarantined)
        if job.contract is not None:
            _check_file_rules(job.contract, rows + quarantined, job.src.name)
        sink.commit()
        out_columns = tuple(sink.columns)
    return _Done(rows, n_chunks, quarantined, tuple(warned), out_columns)


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
