"""Mergeable drift summaries: drift statistics over data larger than memory.

A `SketchPlan` fixes, from the reference, the bins every partition of the current data is
counted on. Each partition (a chunk, a Parquet row group, a Ray Data batch) becomes a
`FrameSummary` of integer counts plus min/max; summaries merge by adding counts, so merging
partitions in any order and any grouping gives bit-for-bit the summary of one pass, and the
local and Ray engines give the same statistics.

Per numeric column:
- `coarse`: counts on the reference's PSI bins (`NumericReference.edges`: one closed bin per
  value of a discrete reference, else 10 quantile bins), so PSI, JS and the chi-square on
  those bins are *exactly* those of `numeric_drift` on the whole column in memory.
- `fine`: counts on a fine grid: the reference's quantiles at `FINE_BINS` (2,048) levels (each
  such cell holds at most ~1/2,048 of the reference), 2,048 evenly spaced cells over the
  reference's range (so a long tail's wide quantile cells are cut small too), and `TAIL_BINS`
  (256) evenly spaced cells over one reference range beyond each end; plus, per cell, how
  many values sit exactly on its left edge (`atoms`: ties, discrete columns), and min/max.

KS and Wasserstein come from the fine grid, with an error bound computed from the counts:
- KS: D is evaluated exactly at every grid edge, just below and just after the values on it
  (both are exact CDF values), a lower bound of the true D. Within a cell [a, b), each CDF
  lies between its values at a and b, so D is at most the max over cells of
  max(F_ref(b) - F_cur(a), F_cur(b) - F_ref(a)). `ks_error_bound` is that maximum minus the
  estimate: the exact D lies in [ks, ks + ks_error_bound]. It is at most the largest mass of
  one cell in either sample, so ~0.0005 for continuous data; for a discrete column whose
  values are all grid edges the estimate is exact.
- Wasserstein-1 = ∫|F_ref - F_cur| dx is integrated cell by cell over [min, max] of both
  samples: each CDF jumps by its atoms at the cell's left edge, then rises linearly inside
  the cell. Within a cell the integrand lies between the bounds above, which give a lower
  and an upper value of the cell's integral; `wasserstein_error_bound` sums the larger
  distance from the estimate to either, so the exact W1 lies within ± that bound of
  `wasserstein` (a conservative bound: measured errors are far below it).

Categorical columns: exact value counts (merged by addition), so chi-square, PSI and JS equal
the in-memory statistics (new categories are ordered by name, so every engine sums the
chi-square terms in the same order).

The KS p-value is the asymptotic one (`ks_pvalue`), which is what scipy's 'auto' method uses
once either sample exceeds 10,000 values, i.e. for every dataset this module is meant for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from loopline.errors import InvalidInputError
from loopline.stats._categorical import chi2_contingency_2xk, value_counts
from loopline.stats._distances import js_distance
from loopline.stats._drift import (
    CategoricalReference,
    NumericReference,
    Reference,
    categorical_drift_counts,
)
from loopline.stats._ks import ks_pvalue
from loopline.stats._psi import psi_from_fractions

Array = np.ndarray[Any, Any]
FINE_BINS = 2048
TAIL_BINS = 256  # cells on each side beyond the reference range


def _counts(values: Array, edges: Array) -> Array:
    # bin i holds edges[i-1] <= v < edges[i] (the bins of `numeric_drift`), unsorted input
    idx = np.searchsorted(edges, values, side="right")
    return np.bincount(idx, minlength=edges.size + 1).astype(np.int64)


def _counts_and_atoms(values: Array, edges: Array) -> tuple[Array, Array]:
    """Counts per bin, and per bin how many values sit exactly on its left edge (ties: a
    discrete column's values are all such atoms, which makes its KS and W1 exact)."""
    idx = np.searchsorted(edges, values, side="right")
    counts = np.bincount(idx, minlength=edges.size + 1).astype(np.int64)
    inner = idx > 0
    on_edge = np.zeros(values.size, dtype=bool)
    on_edge[inner] = values[inner] == edges[idx[inner] - 1]
    atoms = np.bincount(idx[on_edge], minlength=edges.size + 1).astype(np.int64)
    return counts, atoms


@dataclass(frozen=True)
class NumericSummary:
    """Counts of one numeric column's finite values on the plan's coarse and fine bins."""

    n: int
    coarse: Array
    fine: Array
    atoms: Array  # per fine bin: values equal to its left edge
    lo: float = float("inf")
    hi: float = float("-inf")

    def merge(self, other: NumericSummary) -> NumericSummary:
        return NumericSummary(
            self.n + other.n,
            self.coarse + other.coarse,
            self.fine + other.fine,
            self.atoms + other.atoms,
            min(self.lo, other.lo),
            max(self.hi, other.hi),
        )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, NumericSummary)
            and self.n == other.n
            and np.array_equal(self.coarse, other.coarse)
            and np.array_equal(self.fine, other.fine)
            and np.array_equal(self.atoms, other.atoms)
            and (self.lo, self.hi) == (other.lo, other.hi)
        )

    __hash__ = None  # type: ignore[assignment]

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "coarse": self.coarse.tolist(),
            "fine": self.fine.tolist(),
            "atoms": self.atoms.tolist(),
            "lo": self.lo,
            "hi": self.hi,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> NumericSummary:
        return cls(
            int(d["n"]),
            np.asarray(d["coarse"], dtype=np.int64),
            np.asarray(d["fine"], dtype=np.int64),
            np.asarray(d["atoms"], dtype=np.int64),
            float(d["lo"]),
            float(d["hi"]),
        )


@dataclass(frozen=True)
class CategoricalSummary:
    """Counts of each non-null value of one column, keyed as strings, sorted by key."""

    counts: dict[str, int] = field(default_factory=dict)

    def merge(self, other: CategoricalSummary) -> CategoricalSummary:
        merged = dict(self.counts)
        for k, v in other.counts.items():
            merged[k] = merged.get(k, 0) + v
        return CategoricalSummary(dict(sorted(merged.items())))

    def as_dict(self) -> dict[str, Any]:
        return {"counts": self.counts}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CategoricalSummary:
        return cls({str(k): int(v) for k, v in d["counts"].items()})


ColumnSummary = NumericSummary | CategoricalSummary


@dataclass(frozen=True)
class FrameSummary:
    """Column → summary of one partition (or of several merged)."""

    columns: dict[str, ColumnSummary]

    def merge(self, other: FrameSummary) -> FrameSummary:
        if self.columns.keys() != other.columns.keys():
            raise InvalidInputError(
                "cannot merge summaries of different columns",
                hint="summarize every partition with the same SketchPlan",
            )
        return FrameSummary({c: _merge(s, other.columns[c]) for c, s in self.columns.items()})

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (to ship between processes or store beside a monitor run)."""
        return {
            c: {"kind": "numeric" if isinstance(s, NumericSummary) else "categorical"} | s.as_dict()
            for c, s in self.columns.items()
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FrameSummary:
        out: dict[str, ColumnSummary] = {}
        for c, s in d.items():
            out[c] = (
                NumericSummary.from_dict(s)
                if s["kind"] == "numeric"
                else CategoricalSummary.from_dict(s)
            )
        return cls(out)


def _merge(a: ColumnSummary, b: ColumnSummary) -> ColumnSummary:
    if isinstance(a, NumericSummary) and isinstance(b, NumericSummary):
        return a.merge(b)
    if isinstance(a, CategoricalSummary) and isinstance(b, CategoricalSummary):
        return a.merge(b)
    raise InvalidInputError(
        "cannot merge a numeric and a categorical summary of one column",
        hint="summarize every partition with the same SketchPlan",
    )


def merge_all(summaries: Sequence[FrameSummary]) -> FrameSummary:
    """The merge of several summaries (at least one)."""
    if not summaries:
        raise InvalidInputError("no summaries to merge", hint="the input had no partitions")
    out = summaries[0]
    for s in summaries[1:]:
        out = out.merge(s)
    return out


@dataclass(frozen=True)
class _NumericPlan:
    ref: NumericReference
    fine_edges: Array
    ref_fine: Array  # the reference counted on the fine grid
    ref_atoms: Array
    ref_lo: float
    ref_hi: float


def _numeric_values(values: Any) -> Array:
    """Finite float64 values of a column (text in a numeric column: NaN, as column_drift)."""
    import pandas as pd

    if hasattr(values, "to_numpy") and hasattr(values, "type"):  # a pyarrow array/column
        values = values.to_pandas()
    s = pd.Series(values)
    if not (pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)):
        s = pd.to_numeric(s, errors="coerce")
    arr = s.to_numpy(dtype="float64", na_value=np.nan)
    out: Array = arr[np.isfinite(arr)]
    return out


class SketchPlan:
    """The bins each partition is counted on, fixed once from the references."""

    def __init__(self, references: Mapping[str, Reference], fine_bins: int = FINE_BINS) -> None:
        self.references = dict(references)
        self.numeric: dict[str, _NumericPlan] = {}
        for col, ref in self.references.items():
            if not isinstance(ref, NumericReference):
                continue
            if ref.values is None:
                raise InvalidInputError(
                    f"column {col!r}: a drift sketch needs a reference built from values, "
                    "not from a stored profile",
                    hint="prepare the reference with prepare_references(training_frame)",
                )
            vals = ref.values
            if vals.size:
                lo, hi = float(vals[0]), float(vals[-1])
                # Quantile cells hold little reference mass each; evenly spaced cells keep
                # the wide quantile cells of a long tail narrow too.
                inner = np.concatenate(
                    (
                        np.quantile(vals, np.linspace(0, 1, fine_bins + 1)[1:-1]),
                        np.linspace(lo, hi, fine_bins + 1),
                    )
                )
                # Beyond the reference's range its CDF is flat but the current's may not be:
                # evenly spaced cells over one reference range on each side keep the
                # Wasserstein bound tight when the current sample spreads wider.
                span = (hi - lo) or 1.0
                below = np.linspace(lo - span, lo, TAIL_BINS + 1)
                above = np.linspace(hi, hi + span, TAIL_BINS + 1)
                fine = np.unique(np.concatenate((below, inner, above)))
            else:
                fine, lo, hi = np.array([], dtype="float64"), float("inf"), float("-inf")
            ref_fine, ref_atoms = _counts_and_atoms(vals, fine)
            self.numeric[col] = _NumericPlan(ref, fine, ref_fine, ref_atoms, lo, hi)

    @property
    def columns(self) -> list[str]:
        return list(self.references)

    def summarize(self, frame: Any) -> FrameSummary:
        """The summary of one partition: a pandas DataFrame or a pyarrow Table holding at
        least the plan's columns."""
        out: dict[str, ColumnSummary] = {}
        for col in self.references:
            values = frame[col] if not hasattr(frame, "column") else frame.column(col)
            plan = self.numeric.get(col)
            if plan is None:
                if hasattr(values, "to_pandas"):
                    values = values.to_pandas()
                out[col] = CategoricalSummary(dict(sorted(value_counts(values).items())))
                continue
            arr = _numeric_values(values)
            fine, atoms = _counts_and_atoms(arr, plan.fine_edges)
            out[col] = NumericSummary(
                int(arr.size),
                _counts(arr, plan.ref.edges),
                fine,
                atoms,
                float(arr.min()) if arr.size else float("inf"),
                float(arr.max()) if arr.size else float("-inf"),
            )
        return FrameSummary(out)

    def drift(self, summary: FrameSummary) -> dict[str, dict[str, Any]]:
        """Column → statistics (the keys of `column_drift`, plus the error bounds)."""
        out: dict[str, dict[str, Any]] = {}
        for col, ref in self.references.items():
            s = summary.columns[col]
            if isinstance(s, NumericSummary):
                out[col] = self._numeric(self.numeric[col], s)
            else:
                assert isinstance(ref, CategoricalReference)
                stats = categorical_drift_counts(ref, s.counts)
                out[col] = stats | {"method": "sketch"}
        return out

    @staticmethod
    def _numeric(plan: _NumericPlan, s: NumericSummary) -> dict[str, Any]:
        ref = plan.ref
        out: dict[str, Any] = {"kind": "numeric", "n_ref": ref.n, "n_cur": s.n}
        if s.n == 0 or ref.n == 0:
            return out
        ref_frac, cur_frac = ref.counts / ref.n, s.coarse / s.n
        out["psi"] = psi_from_fractions(ref_frac, cur_frac)
        out["js"] = js_distance(ref.counts, s.coarse, base=2)
        chi = chi2_contingency_2xk(ref.counts, s.coarse)
        out.update(chi2=chi.statistic, chi2_pvalue=chi.pvalue, chi2_dof=chi.dof)
        ks, ks_bound, w, w_bound = _ks_wasserstein(plan, s)
        out.update(
            ks=ks,
            ks_pvalue=ks_pvalue(ks, ref.n, s.n),
            ks_error_bound=ks_bound,
            wasserstein=w,
            wasserstein_error_bound=w_bound,
            exact=False,
            method="sketch",
            edges=ref.edges.tolist(),
            ref_fractions=ref_frac.tolist(),
            cur_fractions=cur_frac.tolist(),
        )
        return out


def _ks_wasserstein(plan: _NumericPlan, s: NumericSummary) -> tuple[float, float, float, float]:
    # CDFs just below each boundary: [global min, fine edges..., global max]
    lo, hi = min(plan.ref_lo, s.lo), max(plan.ref_hi, s.hi)
    f_ref = np.concatenate(([0.0], np.cumsum(plan.ref_fine[:-1]) / plan.ref.n, [1.0]))
    f_cur = np.concatenate(([0.0], np.cumsum(s.fine[:-1]) / s.n, [1.0]))
    # F(b-) at the top boundary is 1 only counting the max itself; at hi both CDFs reach 1
    # and the integral stops there, so treating the last boundary as "≤ hi" is exact.
    bounds = np.concatenate(([lo], np.clip(plan.fine_edges, lo, hi), [hi]))
    d_at = f_ref - f_cur
    # Just after each cell's left edge, past the values sitting on it: exact CDF values too.
    d_after = d_at[:-1] + plan.ref_atoms / plan.ref.n - s.atoms / s.n
    ks = float(max(np.max(np.abs(d_at)), np.max(np.abs(d_after))))
    # Within cell k = [bounds[k], bounds[k+1]): F_ref ∈ [f_ref[k], f_ref[k+1]], same for cur.
    upper_d = f_ref[1:] - f_cur[:-1]  # the largest F_ref - F_cur can be in the cell
    lower_d = f_ref[:-1] - f_cur[1:]  # the smallest
    ks_upper = float(max(np.max(upper_d), np.max(-lower_d), ks))
    width = np.diff(bounds)
    da, db = d_after, d_at[1:]
    same = da * db >= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        crossing = (da * da + db * db) / (2 * (np.abs(da) + np.abs(db)))
    linear = np.where(same, np.abs(da + db) / 2, np.nan_to_num(crossing))
    estimate = width * linear
    # The integrand |d| on the cell lies between 0 (or the gap to 0 when the bounds share a
    # sign) and max(|lower|, |upper|).
    gap = np.where(lower_d > 0, lower_d, np.where(upper_d < 0, -upper_d, 0.0))
    low = width * gap
    high = width * np.maximum(np.abs(lower_d), np.abs(upper_d))
    w = float(np.sum(estimate))
    w_bound = float(np.sum(np.maximum(estimate - low, high - estimate)))
    return ks, ks_upper - ks, w, w_bound


__all__ = [
    "FINE_BINS",
    "CategoricalSummary",
    "ColumnSummary",
    "FrameSummary",
    "NumericSummary",
    "SketchPlan",
    "merge_all",
]
