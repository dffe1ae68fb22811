"""Per-column drift of a current sample against a prepared reference.

A reference is prepared once (sorted, binned) and compared with many windows, so each window
costs one sort of *its* values plus O(n) work. It comes either from raw values (exact
statistics) or from a stored dataset profile (`loopline.data.profile`), when the training rows
themselves were not kept:

- raw values: PSI and JS over 10 quantile bins of the reference (exactly the bins of
  `loopline.stats.psi`); KS equal to scipy's ks_2samp; Wasserstein equal to scipy's.
- stored profile: PSI and JS over the profile's 20 histogram bins merged into ~10 bins of
  similar reference mass, plus two open outer bins (values beyond the training range); KS of
  the current sample against the histogram's piecewise-linear CDF with the asymptotic p-value;
  Wasserstein from the histogram's quantile function. Both carry `exact: False`.

Categorical columns: chi-square (2xK homogeneity), PSI and JS over the union of categories;
with a profile that kept only its top categories, current categories the profile does not name
are pooled with the profile's "other" rows instead of being called new.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from loopline.stats._categorical import (
    aligned_counts,
    chi2_contingency_2xk,
    psi_categorical,
    value_counts,
)
from loopline.stats._distances import js_distance, wasserstein_from_merge
from loopline.stats._ks import ks_from_merge, ks_pvalue, merge_sorted, run_ends, run_starts
from loopline.stats._psi import psi_from_fractions, quantile_edges

Array = np.ndarray[Any, Any]
NUMERIC_BINS = 10
OTHER = "(other)"
_QUANTILE_GRID = (np.arange(1000) + 0.5) / 1000


def finite_sorted(values: Any) -> Array:
    arr = np.asarray(values, dtype="float64")
    return np.sort(arr[np.isfinite(arr)])


def _bin_counts(sorted_values: Array, edges: Array) -> Array:
    # bin i holds edges[i-1] <= v < edges[i]: the same bins as `binned_fractions`
    below = np.searchsorted(sorted_values, edges, side="left")
    return np.diff(np.concatenate(([0], below, [sorted_values.size])))


@dataclass(frozen=True)
class NumericReference:
    n: int
    edges: Array  # inner bin edges; bin i holds edges[i-1] <= v < edges[i]
    counts: Array  # reference count per bin (len(edges) + 1)
    values: Array | None = None  # sorted finite raw values, when kept: exact KS/Wasserstein
    grid: Array | None = None  # profile only: histogram edges and the CDF at each
    grid_cdf: Array | None = None

    @property
    def exact(self) -> bool:
        return self.values is not None

    @classmethod
    def from_values(cls, values: Any, bins: int = NUMERIC_BINS) -> NumericReference:
        arr = finite_sorted(values)
        edges = quantile_edges(arr, bins)
        return cls(arr.size, edges, _bin_counts(arr, edges), arr)

    @classmethod
    def from_profile(
        cls, column: Mapping[str, Any], bins: int = NUMERIC_BINS
    ) -> NumericReference | None:
        hist = column.get("histogram")
        if not hist or not hist.get("counts"):
            return None
        full = np.asarray(hist["edges"], dtype="float64")
        counts = np.asarray(hist["counts"], dtype="float64")
        n = int(counts.sum())
        cdf = np.concatenate(([0.0], np.cumsum(counts) / n))
        # Merge adjacent histogram bins until each holds about 1/bins of the reference, so
        # PSI is taken over ~10 bins of similar mass, as with raw data (20 equal-width bins
        # would double PSI's noise floor and leave skewed columns with a few crowded bins).
        keep = [0]
        for i in range(1, full.size - 1):
            if cdf[i] - cdf[keep[-1]] >= 1.0 / bins and 1.0 - cdf[i] >= 0.5 / bins:
                keep.append(i)
        keep.append(full.size - 1)
        inner = full[keep].copy()
        # np.histogram's last bin is closed, so the maximum belongs inside it, not above it.
        inner[-1] = np.nextafter(full[-1], np.inf)
        merged = np.diff(cdf[keep]) * n
        return cls(n, inner, np.concatenate(([0.0], merged, [0.0])), grid=full, grid_cdf=cdf)


def _approximate_ks_w(ref: NumericReference, cur: Array) -> tuple[float, float]:
    """KS and Wasserstein of `cur` against the piecewise-linear CDF of a histogram."""
    assert ref.grid is not None and ref.grid_cdf is not None
    n = cur.size
    f_ref = np.interp(cur, ref.grid, ref.grid_cdf, left=0.0, right=1.0)
    d = max(
        float(np.max(np.abs(f_ref - run_ends(cur) / n))),
        float(np.max(np.abs(f_ref - run_starts(cur) / n))),
        float(np.max(np.abs(ref.grid_cdf - np.searchsorted(cur, ref.grid, "right") / n))),
    )
    # Quantile functions on a fine grid of probabilities: W1 = ∫|Q_ref(p) - Q_cur(p)| dp.
    keep = np.concatenate(([True], np.diff(ref.grid_cdf) > 0))  # np.interp needs increasing x
    q_ref = np.interp(_QUANTILE_GRID, ref.grid_cdf[keep], ref.grid[keep])
    q_cur = cur[np.minimum((_QUANTILE_GRID * n).astype(np.int64), n - 1)]
    return d, float(np.mean(np.abs(q_ref - q_cur)))


def numeric_drift(ref: NumericReference, current: Any, presorted: bool = False) -> dict[str, Any]:
    cur = np.asarray(current, dtype="float64") if presorted else finite_sorted(current)
    out: dict[str, Any] = {"kind": "numeric", "n_ref": ref.n, "n_cur": int(cur.size)}
    if cur.size == 0 or ref.n == 0:
        return out
    cur_counts = _bin_counts(cur, ref.edges)
    ref_frac, cur_frac = ref.counts / ref.n, cur_counts / cur.size
    out["psi"] = psi_from_fractions(ref_frac, cur_frac)
    out["js"] = js_distance(ref.counts, cur_counts, base=2)
    if ref.values is not None:
        merge = merge_sorted(ref.values, cur)
        ks = ks_from_merge(merge)
        out.update(ks=ks.statistic, ks_pvalue=ks.pvalue, wasserstein=wasserstein_from_merge(merge))
    else:
        d, w = _approximate_ks_w(ref, cur)
        out.update(ks=d, ks_pvalue=ks_pvalue(d, ref.n, int(cur.size)), wasserstein=w)
    out.update(
        exact=ref.exact,
        edges=ref.edges.tolist(),
        ref_fractions=ref_frac.tolist(),
        cur_fractions=cur_frac.tolist(),
        cur_mean=float(cur.mean()),
    )
    return out


@dataclass(frozen=True)
class CategoricalReference:
    counts: dict[str, int]
    other: int = 0  # rows in categories a top-N profile did not keep

    @property
    def n(self) -> int:
        return sum(self.counts.values()) + self.other

    @classmethod
    def from_values(cls, values: Any) -> CategoricalReference:
        return cls(value_counts(values))

    @classmethod
    def from_profile(cls, column: Mapping[str, Any]) -> CategoricalReference:
        top = {str(k): int(v) for k, v in (column.get("top") or {}).items()}
        return cls(top, int(column.get("other_count") or 0))


def categorical_drift(ref: CategoricalReference, current: Any) -> dict[str, Any]:
    return categorical_drift_counts(ref, value_counts(current))


def categorical_drift_counts(ref: CategoricalReference, cur: dict[str, int]) -> dict[str, Any]:
    """`categorical_drift` from the current sample's value counts (as `value_counts` keys)."""
    ref_counts = dict(ref.counts)
    if ref.other:
        pooled = sum(v for k, v in cur.items() if k not in ref_counts)
        cur = {k: v for k, v in cur.items() if k in ref_counts}
        ref_counts[OTHER] = ref.other
        if pooled:
            cur[OTHER] = pooled
    labels, r, c = aligned_counts(ref_counts, cur)
    out: dict[str, Any] = {"kind": "categorical", "n_ref": int(r.sum()), "n_cur": int(c.sum())}
    if r.sum() == 0 or c.sum() == 0:
        return out
    chi = chi2_contingency_2xk(r, c)
    unseen = [k for k in cur if k not in ref_counts]
    order = np.argsort(-(r / r.sum() + c / c.sum()), kind="stable")[:30]
    out.update(
        psi=psi_categorical(r, c),
        js=js_distance(r, c, base=2),
        chi2=chi.statistic,
        chi2_pvalue=chi.pvalue,
        chi2_dof=chi.dof,
        unseen=unseen,
        exact=not ref.other,
        labels=[labels[i] for i in order],
        ref_fractions=(r[order] / r.sum()).tolist(),
        cur_fractions=(c[order] / c.sum()).tolist(),
    )
    return out


Reference = NumericReference | CategoricalReference


def reference_from_values(values: Any) -> Reference:
    """A numeric reference for numeric (non-bool) data, categorical otherwise."""
    import pandas as pd

    s = pd.Series(values)
    numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
    if numeric:
        return NumericReference.from_values(s.to_numpy(dtype="float64", na_value=np.nan))
    return CategoricalReference.from_values(s)


def reference_from_profile(column: Mapping[str, Any]) -> Reference | None:
    if column.get("kind") == "numeric":
        return NumericReference.from_profile(column)
    return CategoricalReference.from_profile(column)


def column_drift(ref: Reference, current: Any) -> dict[str, Any]:
    """Every applicable statistic of `current` against `ref` (a JSON-ready dict)."""
    if isinstance(ref, NumericReference):
        import pandas as pd

        s = pd.Series(current)
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            return numeric_drift(ref, s.to_numpy(dtype="float64", na_value=np.nan))
        numbers = pd.to_numeric(s, errors="coerce")  # text in a numeric column: NaN, not a crash
        return numeric_drift(ref, numbers.to_numpy(dtype="float64", na_value=np.nan))
    return categorical_drift(ref, current)


__all__ = [
    "OTHER",
    "CategoricalReference",
    "NumericReference",
    "Reference",
    "categorical_drift",
    "categorical_drift_counts",
    "column_drift",
    "numeric_drift",
    "reference_from_profile",
    "reference_from_values",
]
