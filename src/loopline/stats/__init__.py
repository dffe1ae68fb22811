"""Pure statistics shared by serving (canary health) and monitoring (drift).

Each function is a pure function of arrays (or of count tables), tested against scipy where
scipy has the same statistic: `ks_2samp`, `chi2_contingency_2xk`, `js_distance`,
`wasserstein_distance`. `drift_frame` runs all of them over every column of a frame.

Drift against a stored profile is exact or not used for a verdict: a profile keeps exact
value counts for discrete numeric columns (≤ `DISCRETE_MAX_VALUES` distinct values) and the
exact PSI bins plus a quantile sketch for the others (`drift_profile`, see `_drift`).
"""

from loopline.stats._categorical import (
    Chi2Result,
    aligned_counts,
    chi2_contingency_2xk,
    psi_categorical,
    value_counts,
)
from loopline.stats._distances import js_distance, wasserstein_distance
from loopline.stats._drift import (
    OTHER,
    SKETCH_CELLS,
    CategoricalReference,
    NumericReference,
    Reference,
    categorical_drift,
    column_drift,
    drift_profile,
    numeric_drift,
    reference_from_profile,
    reference_from_values,
)
from loopline.stats._frame import drift_frame, prepare_references
from loopline.stats._ks import KSResult, ks_2samp, ks_pvalue
from loopline.stats._psi import (
    DISCRETE_MAX_VALUES,
    EPSILON,
    binned_fractions,
    discrete_edges,
    psi,
    psi_from_fractions,
    quantile_edges,
    reference_edges,
)
from loopline.stats._sketch import (
    CategoricalSummary,
    FrameSummary,
    NumericSummary,
    SketchPlan,
    merge_all,
)

__all__ = [
    "DISCRETE_MAX_VALUES",
    "EPSILON",
    "OTHER",
    "SKETCH_CELLS",
    "CategoricalReference",
    "CategoricalSummary",
    "Chi2Result",
    "FrameSummary",
    "KSResult",
    "NumericReference",
    "NumericSummary",
    "Reference",
    "SketchPlan",
    "aligned_counts",
    "binned_fractions",
    "categorical_drift",
    "chi2_contingency_2xk",
    "column_drift",
    "discrete_edges",
    "drift_frame",
    "drift_profile",
    "js_distance",
    "ks_2samp",
    "ks_pvalue",
    "merge_all",
    "numeric_drift",
    "prepare_references",
    "psi",
    "psi_categorical",
    "psi_from_fractions",
    "quantile_edges",
    "reference_edges",
    "reference_from_profile",
    "reference_from_values",
    "value_counts",
    "wasserstein_distance",
]
