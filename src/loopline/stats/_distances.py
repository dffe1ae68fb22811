"""Wasserstein-1 and Jensen-Shannon distances, equal to scipy's.

- `wasserstein_distance(u, v)`: the area between the two empirical CDFs,
  ∫ |F_u(x) - F_v(x)| dx, in the units of the data (scipy.stats.wasserstein_distance).
  Computed from the sorted samples' interleaving (see `_ks.merge_sorted`), so no pooled
  re-sort is needed.
- `js_distance(p, q, base)`: sqrt of the Jensen-Shannon divergence of two histograms over the
  same bins, each normalised to sum 1 (scipy.spatial.distance.jensenshannon). With base 2 it
  lies in [0, 1]; monitoring uses base 2, scipy's default (like here) is the natural log.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from loopline.stats._ks import Merge, merge_sorted

Array = np.ndarray[Any, Any]


def _vecdot(a: Array, b: Array) -> float:
    # numpy ≥ 2 has vecdot, which scipy uses; same summation, so the same last bits.
    vecdot = getattr(np, "vecdot", None)
    return float(vecdot(a, b) if vecdot is not None else np.dot(a, b))


def wasserstein_from_merge(m: Merge) -> float:
    # ∫|F_u - F_v| dx as a sum over the gaps between consecutive pooled values (inf - inf and
    # 0 * inf are NaN, as in scipy: the distance is undefined there)
    with np.errstate(invalid="ignore"):
        return _vecdot(np.abs(m.gap[:-1]), np.diff(m.values))


def wasserstein_distance(u_values: Any, v_values: Any) -> float:
    """Earth mover's distance between two 1-D samples. NaN is ignored; infinities count, as
    in scipy: mass at an unmatched infinity is infinitely far (inf), and infinities on both
    sides make the distance undefined (NaN), exactly as scipy answers."""
    u = np.asarray(u_values, dtype="float64")
    v = np.asarray(v_values, dtype="float64")
    u = np.sort(u[~np.isnan(u)])
    v = np.sort(v[~np.isnan(v)])
    if u.size == 0 or v.size == 0:
        raise ValueError("wasserstein_distance needs at least one non-NaN value in each sample")
    return wasserstein_from_merge(merge_sorted(u, v))


def _rel_entr(x: Array, y: Array) -> Array:
    # x*ln(x/y), with 0*ln(0/y) = 0 (scipy.special.rel_entr for the non-negative inputs here)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, x * np.log(x / np.where(y > 0, y, 1.0)), 0.0)


def js_distance(p: Any, q: Any, base: float | None = None) -> float:
    """Jensen-Shannon distance between histograms `p` and `q` (counts or fractions)."""
    pa = np.asarray(p, dtype="float64")
    qa = np.asarray(q, dtype="float64")
    if pa.shape != qa.shape or pa.ndim != 1:
        raise ValueError("js_distance needs two 1-D histograms over the same bins")
    if np.any(pa < 0) or np.any(qa < 0) or pa.sum() <= 0 or qa.sum() <= 0:
        raise ValueError("js_distance needs non-negative histograms with a positive total")
    pa = pa / np.sum(pa)
    qa = qa / np.sum(qa)
    m = (pa + qa) / 2.0
    js = float(np.sum(_rel_entr(pa, m))) + float(np.sum(_rel_entr(qa, m)))
    if base is not None:
        js /= np.log(base)
    return float(np.sqrt(max(js, 0.0) / 2.0))


__all__ = ["js_distance", "wasserstein_distance", "wasserstein_from_merge"]
