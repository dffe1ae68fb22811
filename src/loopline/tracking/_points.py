"""A batch of metric points held as columns, one set per key: what `log_metric` fills.

A point costs three C-level array appends here, and no tuple; the store packs a batch without
touching its points one by one (`columns()`: one `frombuffer` per array). That matters
because the writer thread shares the GIL with the training loop: any per-point Python work
left for the writer becomes a stall in the loop (see `loopline.tracking._buffer`).

As a `Sequence` it is the same points as (key, value, step, timestamp) tuples, key by key,
in logging order within a key, for a store that wants tuples (the HTTP client sends JSON).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator, Sequence
from typing import overload

from loopline.store import PointTuple

# per key: steps (int64), values, timestamps (float64), in logging order
_Columns = tuple["array[int]", "array[float]", "array[float]"]
Appenders = tuple[Callable[[int], None], Callable[[float], None], Callable[[float], None]]


class Points(Sequence[PointTuple]):
    """Columns per key; see the module docstring. Not thread-safe: the buffer's lock guards it."""

    def __init__(self) -> None:
        self._cols: dict[str, _Columns] = {}

    def appenders(self, key: str) -> Appenders:
        """The three `append`s for `key`'s columns (created on first use)."""
        cols = self._cols.get(key)
        if cols is None:
            cols = self._cols[key] = (array("q"), array("d"), array("d"))
        return cols[0].append, cols[1].append, cols[2].append

    def columns(self) -> Iterator[tuple[str, array[int], array[float], array[float]]]:
        """(key, steps, values, timestamps) per key with points: native-endian int64 and
        float64 buffers, as `loopline.store` packs them (it may keep views of them: a taken
        batch's arrays are never appended to again)."""
        for key, (steps, values, stamps) in self._cols.items():
            if steps:
                yield key, steps, values, stamps

    def absorb(self, later: Points) -> None:
        """Append `later`'s points after this batch's (a batch kept for a retry, plus newer).

        New arrays, never `extend`: the store reads a taken batch's arrays through views
        (`columns()`), which a failed write may leave alive, and a viewed array cannot grow."""
        for key, (steps, values, stamps) in later._cols.items():
            mine = self._cols.get(key)
            if mine is None:
                self._cols[key] = (steps, values, stamps)
            else:
                self._cols[key] = (mine[0] + steps, mine[1] + values, mine[2] + stamps)

    def __len__(self) -> int:
        return sum(len(cols[0]) for cols in self._cols.values())

    def __iter__(self) -> Iterator[PointTuple]:
        for key, steps, values, stamps in self.columns():
            for step, value, stamp in zip(steps, values, stamps, strict=True):
                yield key, value, step, stamp

    @overload
    def __getitem__(self, i: int) -> PointTuple: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[PointTuple]: ...
    def __getitem__(self, i: int | slice) -> PointTuple | Sequence[PointTuple]:
        return list(self)[i]  # not on the write path: stores iterate or read the columns

    def __repr__(self) -> str:
        return f"Points({len(self)} points, keys={list(self._cols)})"


__all__ = ["Appenders", "Points"]
