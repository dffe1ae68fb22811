"""Scoring one chunk: features to the model, ids through untouched, predictions out as Arrow.

A `ChunkScorer` is what a compute engine runs. It holds the model and the plan, never a file
or a store handle, so an engine may pickle it and run it in another process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from loopline.batch._features import frame_of, model_frame
from loopline.errors import InvalidInputError, LooplineError
from loopline.models import LoadedModel

if TYPE_CHECKING:
    from loopline.data import Contract

PREDICTION, PROBABILITY, MODEL_VERSION = "prediction", "probability", "model_version"
_NO_WARNINGS: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScoredChunk:
    """One chunk's output rows, plus what its contract check set aside or warned about."""

    table: pa.Table | None  # None when the contract set every row of the chunk aside
    quarantined_rows: int = 0
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Prepared:
    """A chunk ready for the model: its ids, its checked features, what the contract did."""

    where: str
    ids: list[Any]
    frame: pd.DataFrame | None  # None when the contract set every row of the chunk aside
    quarantined_rows: int = 0
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChunkScorer:
    """Scores one `(first row, rows)` chunk, after checking it against `contract` if any.

    Two stages, `prepare` (the frame, the contract and the signature check) then `finish`
    (the model and the output columns); calling the scorer runs both. An engine that reads
    chunks in a thread of its own may run `prepare` there, overlapped with `finish` on the
    chunk before (see `LocalEngine`).
    """

    model: LoadedModel
    version: str
    features: tuple[str, ...]
    ids: tuple[str, ...]
    source: str
    contract: Contract | None = None
    versions: pa.Array | None = None  # `version_column` of a chunk's length, made once

    def __call__(self, chunk: tuple[int | None, pa.Table]) -> ScoredChunk:
        """Score `(first row, rows)`; the first row is None when the engine does not know
        where the rows sit in the input (Ray Data batches), and row labels then start at 0."""
        return self.finish(self.prepare(chunk))

    def prepare(self, chunk: tuple[int | None, pa.Table]) -> Prepared:
        start, table = chunk
        if start is None:
            where = f"{self.source} (a batch of {table.num_rows:,} rows)"
            start = 0
        else:
            # 0-based, like the row labels of pandas and of validation reports.
            where = f"{self.source} rows {start:,} to {start + table.num_rows - 1:,}"
        signature = self.model.signature
        if self.contract is None:
            ids = [table.column(name) for name in self.ids]
            try:
                frame = model_frame(table, signature, self.features, start)
            except LooplineError as exc:
                raise _located(exc, where) from None
            return Prepared(where, ids, frame)
        whole, quarantined, warnings = _checked(frame_of(table, start), self.contract, where)
        ids = [pa.Array.from_pandas(whole[name]) for name in self.ids]
        frame = whole[list(self.features)]
        if frame.empty:
            return Prepared(where, ids, None, quarantined, warnings)
        if signature is not None:
            try:
                frame = signature.check(frame, allow_extra=True)
            except LooplineError as exc:
                raise _located(exc, where) from None
        return Prepared(where, ids, frame, quarantined, warnings)

    def finish(self, ready: Prepared) -> ScoredChunk:
        if ready.frame is None:
            return ScoredChunk(None, ready.quarantined_rows, ready.warnings)
        labels, proba = self._predict(ready.frame, ready.where)
        out = _Columns(self.ids, ready.ids)
        if labels.ndim == 2:
            for i in range(labels.shape[1]):
                out.add(f"{PREDICTION}_{i}", pa.array(labels[:, i]))
        else:
            out.add(PREDICTION, _labels(labels, self.model))
        if proba is not None:
            for name, values in _probabilities(proba, self.model).items():
                out.add(name, pa.array(values))
        out.add(MODEL_VERSION, self._version_column(len(labels)))
        return ScoredChunk(out.table(), ready.quarantined_rows, ready.warnings)

    def _version_column(self, rows: int) -> pa.Array:
        if self.versions is not None and rows <= len(self.versions):
            return self.versions.slice(0, rows)  # zero-copy
        return version_column(self.version, rows)

    def _predict(
        self, frame: pd.DataFrame, where: str
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any] | None]:
        try:
            return self.model.score(frame, typed_labels=True)
        except Exception as exc:  # the user's model on the user's rows: the failure is theirs
            raise InvalidInputError(
                f"model {self.version} failed on {where}: {type(exc).__name__}: {exc}",
                hint="look there for values the model cannot take (missing values, "
                "out-of-range numbers), or score with a model that handles them",
            ) from exc


class _Columns:
    """Output columns in order; an input column named like an output column is refused."""

    def __init__(self, names: Sequence[str], arrays: Sequence[Any]) -> None:
        self._columns: dict[str, Any] = dict(zip(names, arrays, strict=True))

    def add(self, name: str, values: Any) -> None:
        if name in self._columns:
            raise InvalidInputError(
                f"input column {name!r} has the name of an output column",
                hint="rename it in the input, or choose the columns to keep with --id",
            )
        self._columns[name] = values

    def table(self) -> pa.Table:
        return pa.table(self._columns)


def _located(exc: LooplineError, where: str) -> LooplineError:
    """`exc` with the chunk's place in the input in front of its message."""
    return type(exc)(f"{where}: {exc.message}", hint=exc.hint, details=exc.details)


def _checked(
    frame: pd.DataFrame, contract: Contract, where: str
) -> tuple[pd.DataFrame, int, tuple[str, ...]]:
    """The chunk's rows that pass the contract, how many it set aside, which rules warned."""
    from loopline.data import validate

    report = validate(frame, contract, history=())
    report.raise_for_errors(where)
    warned = tuple(r.id for r in report.warnings)
    if not report.quarantined_rows:
        return frame, 0, warned
    clean, _ = report.split(frame)
    return clean, report.quarantined_rows, warned


def _probabilities(proba: np.ndarray[Any, Any], model: LoadedModel) -> dict[str, Any]:
    """`probability` (of the positive class) for two classes, else one column per class."""
    if proba.ndim == 2 and proba.shape[1] == 2:
        return {PROBABILITY: proba[:, 1]}
    width = proba.shape[1] if proba.ndim == 2 else 1
    output = model.signature.output if model.signature else None
    classes: Sequence[Any] = (
        output.classes
        if output is not None and output.classes and len(output.classes) == width
        else getattr(model.raw, "classes_", range(width))
    )
    columns = proba.reshape(len(proba), width)
    return {f"{PROBABILITY}_{c}": columns[:, i] for i, c in enumerate(classes)}


def _labels(labels: np.ndarray[Any, Any], model: LoadedModel) -> pa.Array:
    """Class labels as an Arrow array. Classifiers' labels arrive as Python objects; when the
    classes share a numeric type one numpy cast converts them, instead of Arrow inspecting
    every object (several times slower, and this runs on every row of the file)."""
    output = model.signature.output if model.signature else None
    if labels.dtype == object and output is not None and output.classes:
        kinds = {type(c) for c in output.classes}
        dtype = {int: np.int64, float: np.float64, bool: np.bool_}.get(kinds.pop())
        if dtype is not None and not kinds:
            try:
                return pa.array(labels.astype(dtype))
            except (OverflowError, TypeError, ValueError):
                pass  # an int past int64, or a label outside the classes: let Arrow decide
    return pa.array(labels)


def version_column(value: str, n: int) -> pa.Array:
    """`n` copies of `value` as a string array."""
    # A dictionary of one value decoded by Arrow: no per-row Python string objects.
    indices = pa.array(np.zeros(n, dtype=np.int32))
    return pa.DictionaryArray.from_arrays(indices, pa.array([value])).cast(pa.string())


__all__ = [
    "MODEL_VERSION",
    "PREDICTION",
    "PROBABILITY",
    "ChunkScorer",
    "Prepared",
    "ScoredChunk",
    "version_column",
]
