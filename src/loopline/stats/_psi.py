"""Population Stability Index over bins fixed by the reference.

PSI = Σ (c_i - r_i) · ln(c_i / r_i) over bins, where r_i and c_i are the reference and
current fractions in bin i. Every bin is half-open: bin i holds edges[i-1] <= v < edges[i],
with open outer bins, so current values outside the reference's range still land in a bin.
An empty bin would make the log infinite, so every fraction is floored at `EPSILON` (1e-4)
before the sum — the usual convention, and small enough that one empty bin alone
contributes < 0.001. Readings: < 0.1 stable, 0.1 to 0.2 moderate shift, > 0.2 significant.

Which bins (`reference_edges`):
- a *discrete* reference, at most `DISCRETE_MAX_VALUES` (50) distinct finite values (binary
  flags, counts, ratings, integer codes): one closed bin per observed value — the point
  {u} as the half-open [u, nextafter(u)) — plus the open bins below the smallest value,
  between consecutive values and above the largest (`discrete_edges`). A current value equal
  to the training minimum or maximum lands in that value's own bin, never in an open outer
  bin, and a value the reference never had (10 against 0 to 9) lands in a bin of its own that
  the reference holds none of. Quantile bins cannot do this: their edges *are* observed
  values, so one value's rows share a bin with its neighbours', or sit alone in an open bin.
- otherwise: the reference's 10 quantiles (`quantile_edges`, duplicates removed), so each bin
  holds about a tenth of the reference.
The same edges are used on every path (raw rows, stored profiles, batch sketches), so PSI is
the same number whichever way the reference was kept.
"""

from __future__ import annotations

from typing import Any

import numpy as np

EPSILON = 1e-4
DISCRETE_MAX_VALUES = 50

Array = np.ndarray[Any, Any]


def quantile_edges(reference: Array, bins: int = 10) -> Array:
    """Inner bin edges: the reference's quantiles, duplicates removed (ties, constants)."""
    finite = reference[np.isfinite(reference)]
    if finite.size == 0:
        return np.array([], dtype="float64")
    inner = np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1])
    return np.unique(inner)


def discrete_edges(support: Array) -> Array:
    """Edges giving each value of `support` (sorted distinct finite values) a closed bin of
    its own, [u, nextafter(u, inf)), between open bins below, between and above them."""
    support = np.asarray(support, dtype="float64")
    return np.unique(np.concatenate((support, np.nextafter(support, np.inf))))


def distinct(sorted_finite: Array) -> tuple[Array, Array]:
    """Distinct values of a sorted finite array and how often each occurs (O(n))."""
    if sorted_finite.size == 0:
        return sorted_finite[:0], np.zeros(0, dtype=np.int64)
    starts = np.concatenate(([0], np.flatnonzero(np.diff(sorted_finite) != 0) + 1))
    counts = np.diff(np.append(starts, sorted_finite.size))
    return sorted_finite[starts], counts.astype(np.int64)


def reference_edges(reference: Array, bins: int = 10) -> Array:
    """The PSI edges of a reference: per value when discrete, quantiles otherwise."""
    ref = np.asarray(reference, dtype="float64")
    finite = np.sort(ref[np.isfinite(ref)])
    support, _ = distinct(finite)
    if support.size <= DISCRETE_MAX_VALUES:
        return discrete_edges(support)
    return quantile_edges(finite, bins)


def bin_counts(values: Array, edges: Array) -> Array:
    """Counts of the finite `values` per bin (bin i holds edges[i-1] <= v < edges[i])."""
    finite = values[np.isfinite(values)]
    return np.bincount(np.searchsorted(edges, finite, side="right"), minlength=edges.size + 1)


def binned_fractions(values: Array, edges: Array) -> Array:
    counts = bin_counts(values, edges)
    total = counts.sum()
    return counts / total if total else np.zeros(edges.size + 1)


def psi_from_fractions(ref: Array, cur: Array) -> float:
    r = np.maximum(ref, EPSILON)
    c = np.maximum(cur, EPSILON)
    return float(np.sum((c - r) * np.log(c / r)))


def psi(reference: Any, current: Any, bins: int = 10) -> float:
    """PSI of `current` against `reference` (numeric arrays; NaN/inf ignored), over
    `reference_edges(reference, bins)`: per value for a discrete reference, else `bins`
    quantile bins."""
    ref = np.asarray(reference, dtype="float64")
    cur = np.asarray(current, dtype="float64")
    if not np.isfinite(ref).any() or not np.isfinite(cur).any():
        # An empty histogram is not "very different", it is no evidence: refuse, don't guess.
        raise ValueError("psi needs at least one finite value in each sample")
    edges = reference_edges(ref, bins)
    return psi_from_fractions(binned_fractions(ref, edges), binned_fractions(cur, edges))


__all__ = [
    "DISCRETE_MAX_VALUES",
    "EPSILON",
    "bin_counts",
    "binned_fractions",
    "discrete_edges",
    "distinct",
    "psi",
    "psi_from_fractions",
    "quantile_edges",
    "reference_edges",
]
