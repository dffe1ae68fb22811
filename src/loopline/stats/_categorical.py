"""Drift statistics for categorical columns over the union of both samples' categories.

A category seen only in the current sample is *counted* (reference count 0), never dropped:
a new category appearing in production is drift, and usually the kind worth knowing about.

- `chi2_contingency_2xk(ref_counts, cur_counts)`: Pearson's chi-square test of homogeneity on
  the 2xK table [reference counts; current counts], K-1 degrees of freedom, no continuity
  correction. Equal to `scipy.stats.chi2_contingency(table, correction=False)`. This asks "do
  both samples come from the same distribution?", with the sampling noise of *both* samples
  taken into account. (Evidently's "chisquare" is a goodness-of-fit test of the current counts
  against the reference *proportions*, treating the reference as exact: a different test.)
- `psi_categorical(ref_counts, cur_counts)`: PSI with one bin per category, fractions floored
  at `EPSILON` like numeric PSI, so an unseen category adds (c - eps)*ln(c/eps).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from loopline.stats._psi import psi_from_fractions

Array = np.ndarray[Any, Any]


class Chi2Result(NamedTuple):
    statistic: float
    pvalue: float
    dof: int


def aligned_counts(
    reference: Mapping[str, int], current: Mapping[str, int]
) -> tuple[list[str], Array, Array]:
    """Both count tables over the union of categories (reference order first, then new ones)."""
    labels = list(reference)
    labels += [k for k in current if k not in reference]
    ref = np.array([reference.get(k, 0) for k in labels], dtype="float64")
    cur = np.array([current.get(k, 0) for k in labels], dtype="float64")
    return labels, ref, cur


def value_counts(values: Any) -> dict[str, int]:
    """Counts of each non-null value, keyed as strings (as profiles key categories)."""
    import pandas as pd

    counts = pd.Series(values).dropna().astype(str).value_counts(sort=False)
    return {str(k): int(v) for k, v in counts.items()}


def chi2_contingency_2xk(ref_counts: Any, cur_counts: Any) -> Chi2Result:
    """Pearson chi-square homogeneity test of two count vectors over the same categories."""
    table = np.vstack([np.asarray(ref_counts, "float64"), np.asarray(cur_counts, "float64")])
    if table.ndim != 2 or table.shape[0] != 2 or np.any(table < 0):
        raise ValueError("chi2_contingency_2xk needs two non-negative count vectors")
    # Categories absent from both samples carry no information (scipy would refuse them).
    table = table[:, table.sum(axis=0) > 0]
    rows, cols = table.sum(axis=1), table.sum(axis=0)
    if table.shape[1] == 0 or np.any(rows == 0):
        raise ValueError("chi2_contingency_2xk needs at least one count in each sample")
    dof = table.shape[1] - 1
    if dof == 0:
        return Chi2Result(0.0, 1.0, 0)
    expected = np.multiply.outer(rows, cols) / table.sum()
    stat = float((((table - expected) ** 2) / expected).sum())
    chdtrc = importlib.import_module("scipy.special").chdtrc  # chi2.sf, as scipy.stats uses
    return Chi2Result(stat, float(chdtrc(dof, stat)), dof)


def psi_categorical(ref_counts: Any, cur_counts: Any) -> float:
    ref = np.asarray(ref_counts, dtype="float64")
    cur = np.asarray(cur_counts, dtype="float64")
    if ref.sum() <= 0 or cur.sum() <= 0:
        raise ValueError("psi_categorical needs at least one count in each sample")
    return psi_from_fractions(ref / ref.sum(), cur / cur.sum())


__all__ = [
    "Chi2Result",
    "aligned_counts",
    "chi2_contingency_2xk",
    "psi_categorical",
    "value_counts",
]
