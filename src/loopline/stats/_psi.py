"""Population Stability Index over quantile bins of the reference.

PSI = Σ (c_i - r_i) · ln(c_i / r_i) over bins, where r_i and c_i are the reference and
current fractions in bin i. Bin edges are the reference's quantiles (so each bin holds
about the same share of the reference) with open outer edges, so current values outside
the reference's range still land in the first or last bin. An empty bin would make the
log infinite, so every fraction is floored at `EPSILON` (1e-4) before the sum — the
usual convention, and small enough that one empty bin alone contributes < 0.001.
Readings: < 0.1 stable, 0.1 to 0.2 moderate shift, > 0.2 significant shift.
"""

from __future__ import annotations

from typing import Any

import numpy as np

EPSILON = 1e-4


def quantile_edges(reference: np.ndarray[Any, Any], bins: int = 10) -> np.ndarray[Any, Any]:
    """Inner bin edges: the reference's quantiles, duplicates removed (ties, constants)."""
    finite = reference[np.isfinite(reference)]
    if finite.size == 0:
        return np.array([], dtype="float64")
    inner = np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1])
    return np.unique(inner)


def binned_fractions(
    values: np.ndarray[Any, Any], edges: np.ndarray[Any, Any]
) -> np.ndarray[Any, Any]:
    finite = values[np.isfinite(values)]
    counts = np.bincount(np.searchsorted(edges, finite, side="right"), minlength=edges.size + 1)
    total = counts.sum()
    return counts / total if total else np.zeros(edges.size + 1)


def psi_from_fractions(ref: np.ndarray[Any, Any], cur: np.ndarray[Any, Any]) -> float:
    r = np.maximum(ref, EPSILON)
    c = np.maximum(cur, EPSILON)
    return float(np.sum((c - r) * np.log(c / r)))


def psi(reference: Any, current: Any, bins: int = 10) -> float:
    """PSI of `current` against `reference` (numeric arrays; NaN/inf ignored)."""
    ref = np.asarray(reference, dtype="float64")
    cur = np.asarray(current, dtype="float64")
    if not np.isfinite(ref).any() or not np.isfinite(cur).any():
        # An empty histogram is not "very different", it is no evidence: refuse, don't guess.
        raise ValueError("psi needs at least one finite value in each sample")
    edges = quantile_edges(ref, bins)
    return psi_from_fractions(binned_fractions(ref, edges), binned_fractions(cur, edges))


__all__ = ["EPSILON", "binned_fractions", "psi", "psi_from_fractions", "quantile_edges"]
