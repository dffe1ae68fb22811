"""Per-column drift of a current sample against a prepared reference.

A reference is prepared once (sorted, binned) and compared with many windows, so each window
costs one sort of *its* values plus O(n) work. It comes either from raw values or from a
stored dataset profile (`loopline.data.profile`), when the training rows themselves were not
kept. Drift from a profile is exact or it is not used for a verdict:

- raw values: PSI, JS and chi-square over the PSI bins of `loopline.stats.psi` (one closed
  bin per value for a discrete column of ≤ `DISCRETE_MAX_VALUES` distinct values, else 10
  quantile bins); KS equal to scipy's ks_2samp; Wasserstein equal to scipy's.
- profile of a discrete column (≤ 50 distinct finite values): the profile keeps the exact
  `value_counts`, from which the sorted reference is rebuilt value for value, so *every*
  statistic equals the raw one, bit for bit.
- profile of any other numeric column: the profile keeps the exact PSI bins (`psi_bins`: the
  10 quantile edges of the raw data and the count in each bin), so PSI, JS and chi-square
  equal the raw ones; and a `quantile_sketch`: the order statistics of ranks
  r_j = (j·(n-1) + ⌊cells/2⌋) // cells, j = 0..cells (`SKETCH_CELLS` = 256; every value when
  n ≤ cells + 1, which makes the sketch the data). Between two kept order statistics the
  reference CDF is known to within (r_{j+1} - r_j - 1)/n ≤ 1/cells (a rank error of
  1/256 ≈ 0.004), so KS and Wasserstein are reported with certified bounds: the exact KS lies
  in [ks, ks + ks_error_bound], the exact W1 within ± wasserstein_error_bound of
  `wasserstein`. They are listed in `approximate` and never decide a verdict; no KS p-value
  is reported (there is no faithful one).
- profile written before these keys existed (histogram only): PSI/JS/chi-square over merged
  histogram bins and KS/Wasserstein from the histogram's piecewise-linear CDF — all listed in
  `approximate`, with an `approximate_reason` to re-log the dataset; shown, never judged.

Every numeric result carries `chi2`/`chi2_pvalue` (Pearson homogeneity on the PSI bins): the
significance test a verdict uses, because it is computed from the same counts on every path.

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
from loopline.stats._ks import ks_from_merge, merge_sorted, run_ends, run_starts
from loopline.stats._psi import (
    DISCRETE_MAX_VALUES,
    discrete_edges,
    distinct,
    psi_from_fractions,
    quantile_edges,
)

Array = np.ndarray[Any, Any]
NUMERIC_BINS = 10
SKETCH_CELLS = 256
OTHER = "(other)"
_QUANTILE_GRID = (np.arange(1000) + 0.5) / 1000
# Why a statistic is not used for a verdict (the `reason` a judged result carries).
SKETCH_REASON = (
    "KS and Wasserstein of a continuous column against a stored profile are approximate "
    "(see ks_error_bound); judge it by psi, js or chi2, or keep the training rows: "
    "run.log_dataset(df, name=..., save=True)"
)
LEGACY_REASON = (
    "the stored profile predates exact drift bins, so no statistic is exact: re-log the "
    "training dataset (run.log_dataset(df, name=...)), or keep its rows with save=True"
)
_ALL_NUMERIC = ["psi", "js", "chi2", "ks", "wasserstein"]


def finite_sorted(values: Any) -> Array:
    arr = np.asarray(values, dtype="float64")
    return np.sort(arr[np.isfinite(arr)])


def _bin_counts(sorted_values: Array, edges: Array) -> Array:
    # bin i holds edges[i-1] <= v < edges[i]: the same bins as `binned_fractions`
    below = np.searchsorted(sorted_values, edges, side="left")
    return np.diff(np.concatenate(([0], below, [sorted_values.size])))


def sketch_ranks(n: int, cells: int = SKETCH_CELLS) -> Array:
    """0-based ranks of the order statistics a quantile sketch keeps: every rank when
    n ≤ cells + 1, else (j·(n-1) + cells//2) // cells for j = 0..cells (integer arithmetic,
    so every reader finds the same ranks; the first is the minimum, the last the maximum)."""
    if n <= cells + 1:
        return np.arange(n, dtype=np.int64)
    j = np.arange(cells + 1, dtype=np.int64)
    return (j * (n - 1) + cells // 2) // cells


def drift_profile(
    values: Any, bins: int = NUMERIC_BINS, cells: int = SKETCH_CELLS
) -> dict[str, Any]:
    """What a dataset profile keeps of one numeric column so drift from it is exact:
    `value_counts` of a discrete column, else `psi_bins` and a `quantile_sketch`.
    `values`: the column's values (NaN and infinities are ignored, as drift ignores them)."""
    arr = finite_sorted(values)
    support, counts = distinct(arr)
    if support.size <= DISCRETE_MAX_VALUES:
        return {"value_counts": {"values": support.tolist(), "counts": counts.tolist()}}
    edges = quantile_edges(arr, bins)
    ranks = sketch_ranks(arr.size, cells)
    return {
        "psi_bins": {"edges": edges.tolist(), "counts": _bin_counts(arr, edges).tolist()},
        "quantile_sketch": {
            "cells": int(ranks.size - 1),
            "values": arr[ranks].tolist(),
            "rank_error": 1.0 / max(int(ranks.size - 1), 1),
        },
    }


@dataclass(frozen=True)
class NumericReference:
    n: int
    edges: Array  # inner bin edges; bin i holds edges[i-1] <= v < edges[i]
    counts: Array  # reference count per bin (len(edges) + 1)
    values: Array | None = None  # sorted finite values, when known: exact KS/Wasserstein
    sketch: Array | None = None  # profile: order statistics of ranks `ranks`
    ranks: Array | None = None
    grid: Array | None = None  # legacy profile only: histogram edges and the CDF at each
    grid_cdf: Array | None = None
    discrete: bool = False  # one closed bin per reference value

    @property
    def exact(self) -> bool:
        return self.values is not None

    @property
    def legacy(self) -> bool:
        return self.grid is not None

    @classmethod
    def from_values(cls, values: Any, bins: int = NUMERIC_BINS) -> NumericReference:
        arr = finite_sorted(values)
        support, _ = distinct(arr)
        discrete = support.size <= DISCRETE_MAX_VALUES
        edges = discrete_edges(support) if discrete else quantile_edges(arr, bins)
        return cls(arr.size, edges, _bin_counts(arr, edges), arr, discrete=discrete)

    @classmethod
    def from_profile(
        cls, column: Mapping[str, Any], bins: int = NUMERIC_BINS
    ) -> NumericReference | None:
        vc = column.get("value_counts")
        if vc and vc.get("counts"):
            support = np.asarray(vc["values"], dtype="float64")
            arr = np.repeat(support, np.asarray(vc["counts"], dtype=np.int64))
            edges = discrete_edges(support)
            return cls(arr.size, edges, _bin_counts(arr, edges), arr, discrete=True)
        pb, qs = column.get("psi_bins"), column.get("quantile_sketch")
        if pb and qs and qs.get("values"):
            edges = np.asarray(pb["edges"], dtype="float64")
            counts = np.asarray(pb["counts"], dtype=np.int64)
            n = int(counts.sum())
            kept = np.asarray(qs["values"], dtype="float64")
            if kept.size == n:  # a small column: the sketch is every value
                return cls(n, edges, counts, kept)
            return cls(n, edges, counts, sketch=kept, ranks=sketch_ranks(n, int(qs["cells"])))
        return cls._from_histogram(column, bins)

    @classmethod
    def _from_histogram(cls, column: Mapping[str, Any], bins: int) -> NumericReference | None:
        """A profile written before `value_counts`/`psi_bins`: approximate, never judged."""
        hist = column.get("histogram")
        if not hist or not hist.get("counts"):
            return None
        full = np.asarray(hist["edges"], dtype="float64")
        counts = np.asarray(hist["counts"], dtype="float64")
        n = int(counts.sum())
        cdf = np.concatenate(([0.0], np.cumsum(counts) / n))
        # Merge adjacent histogram bins until each holds about 1/bins of the reference.
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


def _histogram_ks_w(ref: NumericReference, cur: Array) -> tuple[float, float]:
    """KS and Wasserstein of `cur` against the piecewise-linear CDF of a legacy histogram."""
    assert ref.grid is not None and ref.grid_cdf is not None
    n = cur.size
    f_ref = np.interp(cur, ref.grid, ref.grid_cdf, left=0.0, right=1.0)
    d = max(
        float(np.max(np.abs(f_ref - run_ends(cur) / n))),
        float(np.max(np.abs(f_ref - run_starts(cur) / n))),
        float(np.max(np.abs(ref.grid_cdf - np.searchsorted(cur, ref.grid, "right") / n))),
    )
    keep = np.concatenate(([True], np.diff(ref.grid_cdf) > 0))  # np.interp needs increasing x
    q_ref = np.interp(_QUANTILE_GRID, ref.grid_cdf[keep], ref.grid[keep])
    q_cur = cur[np.minimum((_QUANTILE_GRID * n).astype(np.int64), n - 1)]
    return d, float(np.mean(np.abs(q_ref - q_cur)))


def sketch_ks_w(kept: Array, ranks: Array, n: int, cur: Array) -> tuple[float, float, float, float]:
    """(ks, ks_error_bound, wasserstein, wasserstein_error_bound) of the sorted finite `cur`
    against a reference of `n` values known by its order statistics `kept` (of 0-based
    `ranks`, first the minimum, last the maximum).

    For kept[j] ≤ x < kept[j+1], (ranks[j] + 1)/n ≤ F_ref(x) ≤ ranks[j+1]/n; F_cur is exact.
    Over each piece between consecutive pooled points both are thus boxed, which gives a
    certified lower and upper value of sup|F_ref - F_cur| and of ∫|F_ref - F_cur| dx.
    """
    m, k = cur.size, kept.size - 1
    points = np.unique(np.concatenate((kept, cur)))
    j = np.searchsorted(kept, points, side="right") - 1  # the cell each piece starts in
    inside = (j >= 0) & (j < k)
    jj = np.clip(j, 0, max(k - 1, 0))
    lo = np.where(j < 0, 0.0, np.where(inside, (ranks[jj] + 1) / n, 1.0))
    hi = np.where(j < 0, 0.0, np.where(inside, ranks[np.minimum(jj + 1, k)] / n, 1.0))
    c = np.searchsorted(cur, points, side="right") / m
    d_low = np.maximum(np.maximum(lo - c, c - hi), 0.0)
    d_high = np.maximum(np.abs(lo - c), np.abs(hi - c))
    ks_low, ks_high = float(d_low.max()), float(d_high.max())
    # The last piece [max, inf) has both CDFs at 1; the others have finite widths.
    width = np.diff(points)
    w_low = float(np.dot(width, d_low[:-1]))
    w_high = float(np.dot(width, d_high[:-1]))
    return ks_low, ks_high - ks_low, (w_low + w_high) / 2, (w_high - w_low) / 2


def numeric_drift(ref: NumericReference, current: Any, presorted: bool = False) -> dict[str, Any]:
    cur = np.asarray(current, dtype="float64") if presorted else finite_sorted(current)
    out: dict[str, Any] = {"kind": "numeric", "n_ref": ref.n, "n_cur": int(cur.size)}
    if cur.size == 0 or ref.n == 0:
        return out
    cur_counts = _bin_counts(cur, ref.edges)
    ref_frac, cur_frac = ref.counts / ref.n, cur_counts / cur.size
    chi = chi2_contingency_2xk(ref.counts, cur_counts)
    out.update(
        psi=psi_from_fractions(ref_frac, cur_frac),
        js=js_distance(ref.counts, cur_counts, base=2),
        chi2=chi.statistic,
        chi2_pvalue=chi.pvalue,
        chi2_dof=chi.dof,
    )
    approximate: list[str] = []
    if ref.values is not None:
        merge = merge_sorted(ref.values, cur)
        ks = ks_from_merge(merge)
        out.update(ks=ks.statistic, ks_pvalue=ks.pvalue, wasserstein=wasserstein_from_merge(merge))
    elif ref.sketch is not None and ref.ranks is not None:
        ks_d, ks_bound, w, w_bound = sketch_ks_w(ref.sketch, ref.ranks, ref.n, cur)
        out.update(ks=ks_d, ks_error_bound=ks_bound, wasserstein=w, wasserstein_error_bound=w_bound)
        approximate = ["ks", "wasserstein"]
        out["approximate_reason"] = SKETCH_REASON
    else:
        d, w = _histogram_ks_w(ref, cur)
        out.update(ks=d, wasserstein=w)
        approximate = list(_ALL_NUMERIC)
        out["approximate_reason"] = LEGACY_REASON
    out.update(
        exact=not approximate,
        approximate=approximate,
        discrete=ref.discrete,
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
    "LEGACY_REASON",
    "NUMERIC_BINS",
    "OTHER",
    "SKETCH_CELLS",
    "SKETCH_REASON",
    "CategoricalReference",
    "NumericReference",
    "Reference",
    "categorical_drift",
    "categorical_drift_counts",
    "column_drift",
    "drift_profile",
    "numeric_drift",
    "reference_from_profile",
    "reference_from_values",
    "sketch_ks_w",
    "sketch_ranks",
]
