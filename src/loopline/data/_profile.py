"""Dataset fingerprints and profiles: pure functions over a DataFrame.

A fingerprint identifies content (same rows, same columns, same dtypes → same digest);
a profile summarises each column compactly enough to keep forever, and is what drift
detection later compares against (quantiles and histograms for numbers, top categories
for everything else).

Numeric columns also keep what *exact* drift needs (`loopline.stats.drift_profile`; added
keys, so older readers ignore them):
- at most `DISCRETE_MAX_VALUES` (50) distinct finite values: `value_counts` ({"values",
  "counts"}, sorted by value). The reference is rebuilt from it value for value, so PSI, JS,
  chi-square, KS and Wasserstein against the profile equal those against the raw rows.
- otherwise: `psi_bins` ({"edges", "counts"}: the 10 quantile edges drift computes on the raw
  column and the rows in each bin), so PSI, JS and chi-square are exact; and
  `quantile_sketch` ({"cells", "values", "rank_error"}: 257 order statistics, min and max
  included, every value for columns of ≤ 257 rows), from which KS and Wasserstein are
  reported with certified error bounds (rank error 1/256) and never judged.
About 6 KB of JSON per continuous column at most; a few hundred bytes per discrete one.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd

from loopline.errors import InvalidInputError
from loopline.stats import DISCRETE_MAX_VALUES, drift_profile

QUANTILES = (0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0)
HISTOGRAM_BINS = 20
TOP_CATEGORIES = 20


def as_frame(data: Any) -> pd.DataFrame:
    """Accept pandas, polars, pyarrow tables and 2-D numpy arrays; return pandas."""
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame()
    if isinstance(data, np.ndarray):
        if data.ndim == 1:
            data = data.reshape(-1, 1)
        if data.ndim != 2:
            raise InvalidInputError(
                f"expected a table, got a {data.ndim}-D array", hint="pass a 2-D array"
            )
        return pd.DataFrame(data, columns=[str(i) for i in range(data.shape[1])])
    to_pandas = getattr(data, "to_pandas", None)  # pyarrow.Table, polars.DataFrame
    if callable(to_pandas):
        frame = to_pandas()
        if isinstance(frame, pd.DataFrame):
            return frame
    raise InvalidInputError(
        f"cannot read a {type(data).__name__} as a table",
        hint="pass a pandas/polars DataFrame, a pyarrow Table or a 2-D numpy array",
    )


def schema_of(df: pd.DataFrame) -> dict[str, str]:
    """Column name → dtype name, in column order."""
    return {str(c): str(t) for c, t in df.dtypes.items()}


def fingerprint(df: pd.DataFrame) -> str:
    """sha256 over the schema and the row contents (row order matters, the index does not)."""
    h = hashlib.sha256()
    for name, dtype in schema_of(df).items():
        h.update(f"{name}\x1f{dtype}\x1e".encode())
    h.update(str(len(df)).encode())
    if len(df) and len(df.columns):
        # hash_pandas_object is vectorised: ~100 MB/s, and stable across processes.
        h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return h.hexdigest()


def _numeric_profile(values: pd.Series) -> dict[str, Any]:
    arr = values.to_numpy(dtype="float64", na_value=np.nan)
    finite = np.sort(arr[np.isfinite(arr)])
    out: dict[str, Any] = {"kind": "numeric", "count": int(finite.size)}
    if finite.size == 0:
        return out
    counts, edges = np.histogram(finite, bins=HISTOGRAM_BINS)
    exact = drift_profile(finite)
    out.update(
        mean=float(finite.mean()),
        std=float(finite.std()),
        min=float(finite.min()),
        max=float(finite.max()),
        quantiles={
            str(q): float(v) for q, v in zip(QUANTILES, np.quantile(finite, QUANTILES), strict=True)
        },
        histogram={"edges": edges.tolist(), "counts": counts.tolist()},
        n_unique=int(np.count_nonzero(np.diff(finite)) + 1),
        **exact,
    )
    return out


def _categorical_profile(values: pd.Series) -> dict[str, Any]:
    present = values.dropna()
    counts = present.astype(str).value_counts()
    top = counts.head(TOP_CATEGORIES)
    return {
        "kind": "categorical",
        "count": int(present.size),
        "n_unique": int(counts.size),
        "top": {str(k): int(v) for k, v in top.items()},
        "other_count": int(counts.iloc[TOP_CATEGORIES:].sum()),
    }


def profile(df: pd.DataFrame) -> dict[str, Any]:
    """Per-column profile: dtype, null fraction, and numeric or categorical summary."""
    n = len(df)
    columns: dict[str, Any] = {}
    for name in df.columns:
        col = df[name]
        numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
        summary = _numeric_profile(col) if numeric else _categorical_profile(col)
        nulls = int(col.isna().sum())
        summary.update(
            dtype=str(col.dtype), null_count=nulls, null_fraction=nulls / n if n else 0.0
        )
        columns[str(name)] = summary
    return {"n_rows": n, "n_columns": len(df.columns), "columns": columns}


__all__ = [
    "DISCRETE_MAX_VALUES",
    "HISTOGRAM_BINS",
    "QUANTILES",
    "as_frame",
    "fingerprint",
    "profile",
    "schema_of",
]
