"""Two-sample Kolmogorov-Smirnov test, equal to `scipy.stats.ks_2samp` (two-sided, 'auto').

The statistic D = max_x |F_ref(x) - F_cur(x)| over the pooled values, with right-continuous
empirical CDFs (so ties are handled exactly). It is computed here from the two *sorted*
samples with one `searchsorted` and O(n) array work: the sorted reference can be prepared
once and reused for every window, and the same counts also give Wasserstein's integral.

The p-value follows scipy's 'auto' method to the bit:
- both samples ≤ 10,000 values: the exact permutation distribution (lattice-path counting,
  Hodges 1958). scipy's compiled routine is called for it: a Python port would be orders of
  magnitude slower and scipy is installed with every Loopline already (scikit-learn needs it).
- otherwise: Smirnov's asymptotic distribution, `kstwo.sf(D, round(n*m/(n+m)))`.
"""

from __future__ import annotations

import importlib
import warnings
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

# scipy's threshold between the exact and the asymptotic p-value (MAX_AUTO_N in ks_2samp).
EXACT_MAX_N = 10_000

Array = np.ndarray[Any, Any]


class KSResult(NamedTuple):
    statistic: float
    pvalue: float


def run_ends(sorted_values: Array) -> Array:
    """For each position of a sorted array, the number of values ≤ it (the end of its tie run):
    `searchsorted(a, a, side='right')` in O(n) instead of O(n log n)."""
    n = sorted_values.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    # A run ends where the next value differs (and at the last value).
    ends = np.flatnonzero(np.diff(sorted_values) != 0) + 1
    bounds = np.append(ends, n)
    lengths = np.diff(np.concatenate(([0], bounds)))
    return np.repeat(bounds, lengths)


def run_starts(sorted_values: Array) -> Array:
    """For each position, the number of values < it (`searchsorted(a, a, side='left')`)."""
    n = sorted_values.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.concatenate(([0], np.flatnonzero(np.diff(sorted_values) != 0) + 1))
    lengths = np.diff(np.append(starts, n))
    return np.repeat(starts, lengths)


@dataclass(frozen=True)
class Merge:
    """Two sorted samples pooled in order: everything KS and Wasserstein need.

    `values`: the pooled values, sorted. `gap`: F_ref - F_cur at each pooled value (right-
    continuous CDFs, so exact at the last value of each run of ties; inside a run the gap is
    a partial count, which neither statistic reads: KS looks at run ends only and Wasserstein
    multiplies by the zero width between tied values). `ends`: where a run of ties ends.
    """

    ref: Array
    cur: Array
    values: Array
    gap: Array
    ends: Array


def merge_sorted(ref: Array, cur: Array) -> Merge:
    """Pool two sorted samples in O(n): a stable argsort of the two concatenated runs is a
    single merge pass (timsort), cheaper than a `searchsorted` of one into the other."""
    n1, n2 = ref.size, cur.size
    pooled = np.concatenate((ref, cur))
    order = np.argsort(pooled, kind="stable")
    values = pooled[order]
    del pooled
    # Running counts of each sample along the pooled order; stable, so on a tie the
    # reference's copies come first, like a merge that takes from the left on equality.
    # Counts are kept as float64 (exact below 2**53) so the gap is built in place: the same
    # count/n - count/n arithmetic as scipy, without extra full-size temporaries.
    cur_le = np.cumsum(order >= n1, dtype=np.float64)
    del order
    gap = np.arange(1, n1 + n2 + 1, dtype=np.float64)
    gap -= cur_le  # reference values <= each pooled value
    gap /= n1
    cur_le /= n2
    gap -= cur_le
    del cur_le
    ends = np.empty(n1 + n2, dtype=bool)
    np.not_equal(values[1:], values[:-1], out=ends[:-1])
    ends[-1] = True
    return Merge(ref, cur, values, gap, ends)


def ks_statistic(m: Merge) -> float:
    """D = max |F_ref - F_cur| over the pooled values (the same arithmetic as scipy: count/n
    per sample, then the difference, so the same bits)."""
    at_ends = m.gap[m.ends]
    min_s = float(np.clip(-at_ends.min(), 0, 1))
    max_s = float(at_ends.max())
    return min_s if min_s > max_s else max_s


def ks_pvalue(d: float, n1: int, n2: int) -> float:
    """Asymptotic two-sided p-value of D for sample sizes n1, n2 (scipy's 'asymp' method)."""
    kstwo = importlib.import_module("scipy.stats").kstwo

    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = m * n / (m + n)
    return float(np.clip(kstwo.sf(d, np.round(en)), 0, 1))


def _exact(ref: Array, cur: Array) -> KSResult:
    with warnings.catch_warnings():
        # scipy falls back to the asymptotic method when the exact count overflows, and says
        # so with a warning; the value is still scipy's, which is the point.
        warnings.simplefilter("ignore", RuntimeWarning)
        res = importlib.import_module("scipy.stats").ks_2samp(ref, cur)
    return KSResult(float(res.statistic), float(res.pvalue))


def ks_from_merge(m: Merge) -> KSResult:
    n1, n2 = m.ref.size, m.cur.size
    if max(n1, n2) <= EXACT_MAX_N:
        return _exact(m.ref, m.cur)
    d = ks_statistic(m)
    return KSResult(d, ks_pvalue(d, n1, n2))


def ks_2samp(reference: Any, current: Any) -> KSResult:
    """Two-sided two-sample KS test of `current` against `reference` (NaN/inf ignored)."""
    ref = np.asarray(reference, dtype="float64")
    cur = np.asarray(current, dtype="float64")
    ref = np.sort(ref[np.isfinite(ref)])
    cur = np.sort(cur[np.isfinite(cur)])
    if ref.size == 0 or cur.size == 0:
        raise ValueError("ks_2samp needs at least one finite value in each sample")
    return ks_from_merge(merge_sorted(ref, cur))


__all__ = [
    "EXACT_MAX_N",
    "KSResult",
    "Merge",
    "ks_2samp",
    "ks_from_merge",
    "ks_pvalue",
    "ks_statistic",
    "merge_sorted",
    "run_ends",
    "run_starts",
]
