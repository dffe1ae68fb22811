"""Drift of every column of a frame against a reference, columns in parallel threads.

numpy's sort and searchsorted release the GIL, so columns scale across cores with plain
threads (no copies into worker processes, so peak memory stays one column's working set per
thread on top of the frames).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from loopline.stats._drift import Reference, column_drift, reference_from_values


def prepare_references(frame: Any, columns: Sequence[str] | None = None) -> dict[str, Reference]:
    """Sorted/binned references for each column of a pandas DataFrame (done once, reused)."""
    cols = list(columns) if columns is not None else [str(c) for c in frame.columns]
    return {c: reference_from_values(frame[c]) for c in cols}


def drift_frame(
    reference: Any,
    current: Any,
    columns: Sequence[str] | None = None,
    workers: int | None = None,
) -> dict[str, dict[str, Any]]:
    """Column → statistics of `current` against `reference`.

    `reference` is a pandas DataFrame or the output of `prepare_references` (a mapping of
    column → reference); `current` is a pandas DataFrame holding at least those columns.
    """
    if isinstance(reference, Mapping):
        refs: Mapping[str, Reference] = reference
        cols = list(columns) if columns is not None else list(refs)
    else:
        cols = list(columns) if columns is not None else [str(c) for c in reference.columns]
        refs = {}
    n_workers = max(1, min(workers or os.cpu_count() or 1, len(cols) or 1))

    def one(col: str) -> dict[str, Any]:
        ref = refs[col] if col in refs else reference_from_values(reference[col])
        return column_drift(ref, current[col])

    with ThreadPoolExecutor(n_workers) as pool:
        return dict(zip(cols, pool.map(one, cols), strict=True))


__all__ = ["drift_frame", "prepare_references"]
