"""The compute-engine seam: who runs the per-chunk work of a batch job.

`score` reads chunks and writes results in the calling process; the engine only maps a
function over the chunks. The function and the chunks are picklable (a frozen dataclass
holding the model; Arrow tables), so an engine that ships them to other processes or a
cluster is one more implementation of `map_chunks`, not a change to `score`. An engine that
can read a Parquet dataset where it lives overrides `score_dataset` / `summarize_dataset`
(the Ray engine does); their defaults say "not here" and the chunks are read locally.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from loopline.errors import InvalidInputError

if TYPE_CHECKING:
    from loopline.batch._chunk import ChunkScorer
    from loopline.stats import FrameSummary, SketchPlan

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class DatasetScore:
    """What `score_dataset` wrote."""

    rows: int
    parts: int
    quarantined_rows: int
    warnings: tuple[str, ...]


@runtime_checkable
class ComputeEngine(Protocol):
    """Maps a function over chunks; results come back in input order, one per chunk.

    An engine may also take a whole Parquet dataset where the data lives (`score_dataset`,
    `summarize_dataset`: the Ray engine, with Ray Data). Their defaults here return None:
    the caller then reads the chunks itself and maps them. An engine object that brings
    only `name` and `map_chunks` gets these defaults from `resolve_engine`."""

    name: str

    def map_chunks(self, fn: Callable[[T], R], chunks: Iterable[T]) -> Iterator[R]:
        """`fn(chunk)` for each chunk, in order. `chunks` is consumed lazily: an engine may
        hold a few chunks in flight, never the whole input."""
        ...

    def score_dataset(
        self,
        scorer: ChunkScorer,
        files: Sequence[Path],
        columns: Sequence[str],
        folder: Path,
        chunk_size: int,
        contract: bool = False,
    ) -> DatasetScore | None:
        """Score the Parquet `files` into `folder` (which exists, empty) as
        `part-00000.parquet`, … in row order, or None: not this engine's way (the default)."""
        return None

    def summarize_dataset(
        self, plan: SketchPlan, files: Sequence[Path], columns: Sequence[str], chunk_size: int
    ) -> FrameSummary | None:
        """The merged drift summary of the Parquet `files`, or None: not this engine's way
        (the default)."""
        return None


@runtime_checkable
class _MapsChunks(Protocol):
    """The least an engine object brings (see `resolve_engine`)."""

    name: str

    def map_chunks(self, fn: Callable[[T], R], chunks: Iterable[T]) -> Iterator[R]: ...


class _ChunksOnly(ComputeEngine):
    """An engine object with `name` and `map_chunks` only: the seam's defaults for the rest."""

    def __init__(self, inner: _MapsChunks) -> None:
        self.inner = inner
        self.name = inner.name

    def map_chunks(self, fn: Callable[[T], R], chunks: Iterable[T]) -> Iterator[R]:
        return self.inner.map_chunks(fn, chunks)


class LocalEngine(ComputeEngine):
    """In-process: scores one chunk at a time while a thread reads the next one ahead.

    Parquet decoding and CSV parsing release the GIL, so with `prefetch` chunks read ahead
    the file is read while the model computes instead of before it. Memory is bounded by
    the chunk being scored plus `prefetch` chunks waiting.
    """

    name = "local"

    def __init__(self, prefetch: int = 1) -> None:
        if prefetch < 0:
            raise InvalidInputError(
                f"prefetch must be 0 or more, got {prefetch}", hint="0 reads inline"
            )
        self.prefetch = prefetch

    def map_chunks(self, fn: Callable[[T], R], chunks: Iterable[T]) -> Iterator[R]:
        """`fn` over `chunks`. A staged `fn` (see `Staged`) has its `prepare` run in the
        reading thread, so that work overlaps `finish` on the chunk before."""
        if isinstance(fn, Staged):
            return self._map(fn.finish, _prepared(fn.prepare, chunks))
        return self._map(fn, chunks)

    def _map(self, fn: Callable[[Any], R], chunks: Iterable[Any]) -> Iterator[R]:
        source = iter(chunks) if self.prefetch == 0 else _read_ahead(chunks, self.prefetch)
        try:
            for chunk in source:
                yield fn(chunk)
        finally:
            close_iterator(source)


@runtime_checkable
class Staged(Protocol):
    """A chunk function in two steps, `finish(prepare(chunk))`: an engine may run `prepare`
    (conversions and checks that need no model) where it reads the chunks, ahead of time."""

    def prepare(self, chunk: Any) -> Any: ...

    def finish(self, prepared: Any) -> Any: ...


def _prepared(prepare: Callable[[T], Any], chunks: Iterable[T]) -> Iterator[Any]:
    iterator = iter(chunks)
    try:
        for chunk in iterator:
            yield prepare(chunk)
    finally:
        close_iterator(iterator)  # the input file is closed now, not at GC


def _read_ahead(chunks: Iterable[T], depth: int) -> Iterator[T]:
    """`chunks` in order, produced by a background thread up to `depth` items ahead."""
    # (chunk,) for a chunk, the exception if reading failed, None once the input is done.
    ready: queue.Queue[tuple[T] | BaseException | None] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        last: BaseException | None = None
        iterator = iter(chunks)
        try:
            for chunk in iterator:
                if not _put(ready, (chunk,), stop):
                    return
        except BaseException as exc:  # re-raised in the consumer, where it belongs
            last = exc
        finally:
            close_iterator(iterator)
        _put(ready, last, stop)

    worker = threading.Thread(target=produce, name="loopline-read-ahead", daemon=True)
    worker.start()
    try:
        while (item := ready.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item[0]
    finally:
        # The consumer may stop early (an error while scoring): release the producer, which
        # may be blocked on a full queue, and wait for it so the input file is closed.
        stop.set()
        while worker.is_alive():
            with contextlib.suppress(queue.Empty):
                ready.get(timeout=0.05)
        worker.join()


def close_iterator(iterator: Iterator[object]) -> None:
    """Close a generator now (its `finally` releases files and threads), not at GC."""
    close = getattr(iterator, "close", None)
    if callable(close):
        close()


def _put(ready: queue.Queue[T], item: T, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            ready.put(item, timeout=0.05)
            return True
        except queue.Full:
            continue
    return False


ENGINE_ENV = "LOOPLINE_ENGINE"
ENGINES = ("local", "ray")


def resolve_engine(engine: str | ComputeEngine | None = None) -> ComputeEngine:
    """An engine object as is, or the engine named `engine` (`local` or `ray`); None means
    the `LOOPLINE_ENGINE` environment variable, else `local`."""
    if isinstance(engine, ComputeEngine):
        return engine
    if isinstance(engine, _MapsChunks):
        return _ChunksOnly(engine)
    from_settings = engine is None
    if engine is None:
        from loopline.config import load_settings

        engine = load_settings().engine.strip() or "local"
    name = engine
    if name == LocalEngine.name:
        return LocalEngine()
    if name == "ray":
        from loopline.batch._ray import RayEngine, import_ray

        import_ray()  # not installed: one line saying how, before any work
        return RayEngine()
    where = f" (from {ENGINE_ENV} or loopline.toml)" if from_settings else ""
    raise InvalidInputError(
        f"unknown compute engine {name!r}{where}",
        hint="use 'local' (in-process) or 'ray', or pass an object with map_chunks(fn, chunks)",
    )


__all__ = [
    "ENGINES",
    "ENGINE_ENV",
    "ComputeEngine",
    "DatasetScore",
    "LocalEngine",
    "Staged",
    "close_iterator",
    "resolve_engine",
]
