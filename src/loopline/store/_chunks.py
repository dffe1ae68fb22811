"""Metric points to and from `metric_chunks` rows: pure, no I/O.

A chunk is one key's points from one written batch, packed as three raw little-endian arrays
(int64 steps, float64 values, float64 timestamps). Every conversion is one NumPy call over the
whole batch, never a Python loop per point: the store's writer thread shares the GIL with the
training loop that logs, and a long stretch of Python bytecode in it is a stall in that loop.
The blobs are plain numbers read back with `frombuffer`: nothing in a row is ever executed or
unpickled.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from loopline.store.records import MetricPoint

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from loopline.store.interfaces import PointTuple

# NumPy is imported where a batch is packed or read, not here: the store loads for every CLI
# command, and lookups that never touch a metric must not pay NumPy's import.
STEP = "<i8"
FLOAT = "<f8"


@dataclass
class Chunk:
    """One key's points of a batch, in logging order: little-endian arrays, possibly views
    of the caller's buffers (never copied on the write path: the driver reads them)."""

    key: str
    steps: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    stamps: npt.NDArray[np.float64]

    def row(
        self, run_id: str
    ) -> tuple[str, str, int, int, int, memoryview, memoryview, memoryview]:
        """The `metric_chunks` row, in `CHUNK_COLUMNS` order."""
        return (
            run_id,
            self.key,
            len(self.steps),
            int(self.steps.min()),
            int(self.steps[self._top]),
            self.steps.data.cast("B"),
            self.values.data.cast("B"),
            self.stamps.data.cast("B"),
        )

    def last(self) -> PointTuple:
        """The point `latest_metrics` keeps: highest step, then newest timestamp, then the
        one logged last (as the history orders ties)."""
        import numpy as np

        top = self._top
        # Points at the highest step all come at or after its first one: with steps logged
        # in increasing order, that is only the tail, and no second pass over the batch.
        tail = top + np.flatnonzero(self.steps[top:] == self.steps[top])
        newest = tail[self.stamps[tail] == self.stamps[tail].max()]
        i = int(newest[-1])
        return (self.key, float(self.values[i]), int(self.steps[i]), float(self.stamps[i]))

    @cached_property
    def _top(self) -> int:
        """Index of the first point at the highest step (one pass over the steps)."""
        return int(self.steps.argmax())


CHUNK_COLUMNS = ("run_id", "key", "n", "min_step", "max_step", "steps", "vals", "stamps")


@runtime_checkable
class Columnar(Protocol):
    """A batch that also offers its points as columns (the tracking buffer's batches do):
    per key, buffers of native int64 steps and float64 values and timestamps, each in
    logging order, left unchanged while the store reads them. Packing those is a view per
    column: no copy and no Python work per point."""

    def columns(self) -> Iterable[tuple[str, Any, Any, Any]]: ...


def split(points: Sequence[PointTuple]) -> list[Chunk]:
    """Group a batch by key, keeping logging order within each key.

    Steps beyond int64 raise OverflowError, as the former integer column did."""
    import numpy as np

    if isinstance(points, Columnar):
        return _columnar(points)
    keys, values, steps, stamps = zip(*points, strict=True)
    s = np.array(steps, dtype=STEP)
    v = np.array(values, dtype=FLOAT)
    ts = np.array(stamps, dtype=FLOAT)
    if keys.count(keys[0]) == len(keys):  # the usual batch: one key (identity compares, in C)
        return [Chunk(keys[0], s, v, ts)]
    names = np.array(keys)  # fixed-width text: sorting and comparing stay in C
    order = np.argsort(names, kind="stable")  # stable: logging order within a key
    ranked = names[order]
    cuts = np.flatnonzero(ranked[1:] != ranked[:-1]) + 1
    return [Chunk(keys[int(idx[0])], s[idx], v[idx], ts[idx]) for idx in np.split(order, cuts)]


def _columnar(points: Columnar) -> list[Chunk]:
    return [
        Chunk(key, _view(steps, STEP), _view(values, FLOAT), _view(stamps, FLOAT))
        for key, steps, values, stamps in points.columns()
    ]


class _OnePoint:
    def columns(self) -> Iterator[tuple[str, array[int], array[float], array[float]]]:
        yield "warm-up", array("q", [0]), array("d", [0.0]), array("d", [0.0])


def warm_up() -> None:
    """Pack a one-point batch and discard it: the first packing in a process runs NumPy's
    code paths for the first time, about 200 µs more than later ones. The tracking writer's
    first batch would pay that while the training loop waits for the GIL; a run pays it in
    `start_run` instead."""
    for chunk in _columnar(_OnePoint()):
        chunk.row("")
        chunk.last()


def _view(buffer: Any, dtype: str) -> Any:
    """`buffer`'s native numbers as a little-endian array: a view, copied only on a
    big-endian machine."""
    import numpy as np

    return np.frombuffer(buffer, dtype="=" + dtype[1:]).astype(dtype, copy=False)


def history(rows: Iterable[Any]) -> list[MetricPoint]:
    """Rows with key, steps, vals, stamps (in chunk id order) as points sorted by key, step,
    timestamp and logging order."""
    import numpy as np

    parts: dict[str, list[Any]] = {}
    for r in rows:
        parts.setdefault(r.key, []).append(r)
    out: list[MetricPoint] = []
    for key in sorted(parts):
        chunks = parts[key]
        steps = np.concatenate([np.frombuffer(r.steps, dtype=STEP) for r in chunks])
        values = np.concatenate([np.frombuffer(r.vals, dtype=FLOAT) for r in chunks])
        stamps = np.concatenate([np.frombuffer(r.stamps, dtype=FLOAT) for r in chunks])
        if not len(steps) == len(values) == len(stamps):
            raise ValueError(f"metric {key!r}: a stored chunk's arrays differ in length")
        order = np.lexsort((stamps, steps))  # lexsort is stable: ties keep logging order
        out += map(
            MetricPoint,
            [key] * len(order),
            values[order].tolist(),
            steps[order].tolist(),
            stamps[order].tolist(),
        )
    return out


__all__ = ["CHUNK_COLUMNS", "Chunk", "history", "split", "warm_up"]
