"""The Ray compute engine: the same per-chunk work as the local engine, on a Ray cluster.

Two ways in, one result:

- `map_chunks(fn, chunks)` (the `ComputeEngine` seam): the calling process reads the chunks,
  Ray tasks run `fn` on them (a few in flight per CPU of the cluster), results come back in
  order. `fn` goes to the object store once, not once per chunk. Any input and output format.
- `score_dataset(...)`: Ray Data reads the Parquet partitions on the cluster, an actor pool
  (one model load per actor) scores batches of `chunk_size` rows, and Ray Data writes one
  Parquet file per output block (`part-00000.parquet`, … in row order). The driver never
  holds a row. `loopline.batch.score` takes this path for Parquet input and folder output.

Both keep the input's row order and give the local engine's rows and values: the work per
row is the same `ChunkScorer` call.

The cluster is the one this process is connected to (`ray.init` already called), else the
one at `address` / `LOOPLINE_RAY_ADDRESS` / `RAY_ADDRESS`, else a local one started here.
"""

from __future__ import annotations

import collections
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

import pyarrow as pa
import pyarrow.parquet as pq

from loopline.batch._engine import ComputeEngine, DatasetScore
from loopline.errors import ConfigError, LooplineError

if TYPE_CHECKING:
    from loopline.batch._chunk import ChunkScorer
    from loopline.stats import FrameSummary, SketchPlan

T = TypeVar("T")
R = TypeVar("R")

ADDRESS_ENV = "LOOPLINE_RAY_ADDRESS"
INSTALL_HINT = "pip install 'loopline[ray]'"


def import_ray() -> ModuleType:
    """The `ray` module, or one clear line saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "the Ray engine needs Ray, which is not installed", hint=INSTALL_HINT
        ) from None
    return ray


def connect(address: str | None = None) -> ModuleType:
    """`ray`, connected to a cluster (see the module docstring for which)."""
    ray = import_ray()
    if not ray.is_initialized():
        from loopline.config import load_settings

        target = address or load_settings().ray_address or os.environ.get("RAY_ADDRESS") or None
        try:
            ray.init(
                address=target,
                include_dashboard=False,
                log_to_driver=False,
                ignore_reinit_error=True,
            )
        except (ConnectionError, RuntimeError, ValueError) as exc:
            why = " ".join(str(exc).split())[:300]
            raise ConfigError(
                f"cannot connect to the Ray cluster at {target or '(local)'}: {why}",
                hint=f"start one with 'ray start --head', or set {ADDRESS_ENV}=host:port",
            ) from None
    return ray


def unwrap(exc: BaseException) -> BaseException:
    """The user-facing error inside a Ray task failure, as the local engine would raise it.

    Ray re-raises a task's exception as a `RayTaskError` (its message a remote traceback),
    Ray Data wraps it once more; the `LooplineError` underneath is the one clear line."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, LooplineError) and type(e).__module__.startswith("loopline"):
            return e
        if isinstance(e, LooplineError):  # Ray's dual class: rebuild the plain error
            base = next(c for c in type(e).__mro__ if c.__module__.startswith("loopline"))
            rebuilt: BaseException = base(e.message, hint=e.hint, details=e.details)
            return rebuilt
        todo += [getattr(e, "cause", None), e.__cause__, e.__context__]
    return exc


def _apply(fn: Callable[[T], R], chunk: T) -> R:
    return fn(chunk)


class _Tally:
    """A Ray actor counting what the scoring actors' contract checks set aside or warned."""

    def __init__(self) -> None:
        self.quarantined = 0
        self.warnings: dict[str, None] = {}

    def add(self, quarantined: int, warnings: Sequence[str]) -> None:
        self.quarantined += quarantined
        self.warnings.update(dict.fromkeys(warnings))

    def totals(self) -> tuple[int, tuple[str, ...]]:
        return self.quarantined, tuple(self.warnings)


class _ScoreBatches:
    """Ray Data's callable class: loads the scorer once per actor, scores each batch."""

    def __init__(self, scorer: Any, tally: Any) -> None:
        import ray

        self.ray = ray
        self.scorer = ray.get(scorer) if isinstance(scorer, ray.ObjectRef) else scorer
        self.tally = tally

    def __call__(self, batch: pa.Table) -> pa.Table:
        scored = self.scorer((None, batch))
        if self.tally is not None and (scored.quarantined_rows or scored.warnings):
            self.ray.get(self.tally.add.remote(scored.quarantined_rows, scored.warnings))
        if scored.table is None:
            return pa.table({})  # every row set aside: an empty block, which writes nothing
        out: pa.Table = scored.table
        return out


class RayEngine(ComputeEngine):
    """Runs chunks as Ray tasks, or a whole Parquet dataset through Ray Data."""

    name = "ray"

    def __init__(self, address: str | None = None, in_flight_per_cpu: int = 2) -> None:
        self.address = address
        self.in_flight_per_cpu = max(1, in_flight_per_cpu)

    def cpus(self) -> int:
        ray = connect(self.address)
        return max(1, int(ray.cluster_resources().get("CPU", 1)))

    def map_chunks(self, fn: Callable[[T], R], chunks: Iterable[T]) -> Iterator[R]:
        ray = connect(self.address)
        remote = ray.remote(num_cpus=1, max_retries=0)(_apply)
        fn_ref = ray.put(fn)  # the model crosses to the object store once
        window = self.cpus() * self.in_flight_per_cpu
        pending: collections.deque[Any] = collections.deque()
        iterator = iter(chunks)
        try:
            for chunk in iterator:
                pending.append(remote.remote(fn_ref, chunk))
                if len(pending) >= window:
                    yield self._get(ray, pending.popleft())
            while pending:
                yield self._get(ray, pending.popleft())
        finally:
            for ref in pending:
                ray.cancel(ref)
            close = getattr(iterator, "close", None)
            if callable(close):
                close()

    def summarize_dataset(
        self, plan: SketchPlan, files: Sequence[Path], columns: Sequence[str], chunk_size: int
    ) -> FrameSummary:
        """The merged drift summary (`loopline.stats.FrameSummary`) of the Parquet `files`,
        each batch summarized on the cluster by Ray Data; only the counts come back."""
        return summarize_dataset(self, plan, files, columns, chunk_size)

    @staticmethod
    def _get(ray: ModuleType, ref: Any) -> Any:
        try:
            return ray.get(ref)
        except Exception as exc:
            raise unwrap(exc) from None

    def score_dataset(
        self,
        scorer: ChunkScorer,
        files: Sequence[Path],
        columns: Sequence[str],
        folder: Path,
        chunk_size: int,
        contract: bool = False,
    ) -> DatasetScore:
        """Score the Parquet `files` into `folder` (which must exist, empty), in row order."""
        ray = connect(self.address)
        from ray.data import ActorPoolStrategy, DataContext, SaveMode
        from ray.data.datasource import FilenameProvider

        class Parts(FilenameProvider):
            def get_filename_for_task(self, write_uuid: str, task_index: int) -> str:
                return f"t{task_index:06d}-{{i}}.parquet"  # {i}: Arrow's file counter

        ctx = DataContext.get_current()
        ctx.execution_options.preserve_order = True  # output rows in input order
        ctx.enable_progress_bars = False
        ctx.raise_original_map_exception = True  # the scorer's own error, not a wrapper
        _ordered_reads(ctx)
        cpus = self.cpus()
        tally = ray.remote(num_cpus=0)(_Tally).remote() if contract else None
        try:
            ds = ray.data.read_parquet([str(f) for f in files], partitioning=None)
            ds = ds.select_columns(list(columns))
            ds = ds.map_batches(
                _ScoreBatches,
                fn_constructor_kwargs={"scorer": ray.put(scorer), "tally": tally},
                batch_size=chunk_size,
                batch_format="pyarrow",
                zero_copy_batch=True,
                compute=ActorPoolStrategy(size=cpus),
                # One scoring actor per CPU, each reserving half a CPU: with a whole one each
                # the actors would hold every CPU and the read and write tasks never run.
                num_cpus=0.5,
            )
            ds.write_parquet(str(folder), filename_provider=Parts(), mode=SaveMode.OVERWRITE)
            quarantined, warnings = ray.get(tally.totals.remote()) if tally else (0, ())
        except Exception as exc:
            raise unwrap(exc) from None
        finally:
            if tally is not None:
                ray.kill(tally)
        rows = 0
        for i, part in enumerate(sorted(folder.glob("t*-*.parquet"), key=_part_order)):
            rows += pq.ParquetFile(part).metadata.num_rows
            os.replace(part, folder / f"part-{i:05d}.parquet")
        parts = len(list(folder.glob("part-*.parquet")))
        return DatasetScore(rows, parts, quarantined, tuple(warnings))


class _Summarize:
    """Ray Data's callable: one batch → its drift summary, as a one-row table of JSON."""

    def __init__(self, plan: Any) -> None:
        self.plan = plan

    def __call__(self, batch: pa.Table) -> pa.Table:
        summary = self.plan.summarize(batch)
        return pa.table({"summary": [json.dumps(summary.as_dict())]})


def summarize_dataset(
    engine: RayEngine,
    plan: SketchPlan,
    files: Sequence[Path],
    columns: Sequence[str],
    chunk_size: int,
) -> FrameSummary:
    from loopline.stats import FrameSummary, merge_all

    ray = connect(engine.address)
    from ray.data import DataContext

    ctx = DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.raise_original_map_exception = True
    try:
        ds = ray.data.read_parquet([str(f) for f in files], partitioning=None)
        ds = ds.select_columns(list(columns)).map_batches(
            _Summarize,
            fn_args=None,
            fn_constructor_kwargs={"plan": plan},
            batch_size=chunk_size,
            batch_format="pyarrow",
            compute=_pool(engine.cpus()),
            num_cpus=0.5,
        )
        rows = ds.take_all()
    except Exception as exc:
        raise unwrap(exc) from None
    return merge_all([FrameSummary.from_dict(json.loads(r["summary"])) for r in rows])


def _pool(size: int) -> Any:
    from ray.data import ActorPoolStrategy

    return ActorPoolStrategy(size=size)


def _ordered_reads(ctx: Any) -> None:
    """Ray Data's v2 file datasource (the default in recent Ray) returns the rows of several
    Parquet files out of order even with `preserve_order` (seen on Ray 2.60 with 20 files);
    the v1 datasource keeps file and row order."""
    if hasattr(ctx, "use_datasource_v2"):
        ctx.use_datasource_v2 = False


def _part_order(path: Path) -> tuple[int, int]:
    task, _, i = path.stem[1:].partition("-")
    return int(task), int(i)


__all__ = ["ADDRESS_ENV", "INSTALL_HINT", "RayEngine", "connect", "unwrap"]
