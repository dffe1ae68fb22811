"""Drift of a dataset larger than memory against a reference, on any compute engine.

The current data (a Parquet file, a folder of Parquet partitions, or a CSV file) is never
held whole: each chunk becomes a mergeable summary (`loopline.stats.SketchPlan`: integer
counts on bins fixed by the reference), the summaries are merged, the statistics are read off
the merged counts. Counts add exactly, so the local engine (chunks in this process), the Ray
engine's tasks and its Ray Data path give the same numbers, bit for bit. PSI, JS and the
categorical statistics equal the in-memory ones; KS and Wasserstein come with an error bound
(see `loopline.stats._sketch`).

from loopline.batch import drift_dataset
stats = drift_dataset(training_frame, "events/", engine="ray")
stats["amount"]["psi"], stats["amount"]["ks"], stats["amount"]["ks_error_bound"]
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from loopline.batch._engine import ComputeEngine, resolve_engine
from loopline.batch._readers import PARQUET, open_source
from loopline.errors import InvalidInputError
from loopline.stats import FrameSummary, Reference, SketchPlan, merge_all, prepare_references


def drift_dataset(
    reference: Any,
    current: str | os.PathLike[str],
    *,
    columns: Sequence[str] | None = None,
    engine: str | ComputeEngine | None = None,
    chunk_size: int = 500_000,
) -> dict[str, dict[str, Any]]:
    """Column → drift statistics of the data at `current` against `reference` (a pandas
    DataFrame, or the mapping `prepare_references` returns). Memory: one chunk of
    `chunk_size` rows per worker plus a few thousand counts per column."""
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise InvalidInputError(
            f"chunk_size must be a positive whole number, got {chunk_size!r}",
            hint="e.g. 500000 rows per chunk",
        )
    refs: Mapping[str, Reference] = (
        reference if isinstance(reference, Mapping) else prepare_references(reference, columns)
    )
    if columns is not None:
        refs = {c: refs[c] for c in columns if c in refs}
    plan = SketchPlan(refs)
    path = Path(current)
    source = open_source(path, {})
    missing = [c for c in plan.columns if c not in source.columns]
    if missing:
        raise InvalidInputError(
            f"{path} has no column {missing[0]!r}, which the reference has",
            hint=f"its columns: {', '.join(source.columns)}; pass columns=[...] to choose",
        )
    runner = resolve_engine(engine)
    summary: FrameSummary | None = None
    if source.format == PARQUET:  # an engine may summarize it where the data lives
        summary = runner.summarize_dataset(plan, source.files or (path,), plan.columns, chunk_size)
    if summary is None:
        batches = source.batches(plan.columns, chunk_size)
        summary = merge_all(list(runner.map_chunks(plan.summarize, batches)))
    return plan.drift(summary)


__all__ = ["drift_dataset"]
