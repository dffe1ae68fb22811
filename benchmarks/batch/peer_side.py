"""Peer side of the batch-scoring benchmark: one raw ``predict_proba`` call, nothing else.

Run by ``benchmarks/run.py`` in a fresh temporary directory as cwd. Prints one JSON object on
its last stdout line: ``{"tool", "version", "python", "results": {case: seconds}, "notes"}``.

The floor Loopline's ``score`` is measured against: the 1,000,000 rows already in memory as
one float64 array, scored by scikit-learn in a single call. No file is read or written. This
file needs only scikit-learn, numpy and pandas; ``loopline_side.py`` imports the workload from
it so both sides score the same rows with the same model.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd
import sklearn
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import GradientBoostingClassifier

ROWS = 1_000_000
CASE = "score_1m_rows"


def train() -> tuple[GradientBoostingClassifier, pd.DataFrame, pd.Series]:
    """The serving benchmark's model: scikit-learn's default GBM on breast cancer (30 floats).
    Returns the model and its training data."""
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X.columns = [c.replace(" ", "_") for c in X.columns]
    return GradientBoostingClassifier(random_state=0).fit(X, y), X, y


def rows(features: list[str], n: int = ROWS) -> pd.DataFrame:
    """`n` rows like the training data (resampled, 2% multiplicative noise) and an id."""
    X, _ = load_breast_cancer(return_X_y=True)
    rng = np.random.default_rng(0)
    values = X[rng.integers(0, len(X), n)] * rng.normal(1.0, 0.02, (n, X.shape[1]))
    frame = pd.DataFrame(values, columns=features)
    frame.insert(0, "customer_id", np.arange(n, dtype=np.int64))
    return frame


def raw_call(model: Any, X: np.ndarray[Any, Any]) -> float:
    t0 = time.perf_counter()
    model.predict_proba(X)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="accepted; runs full size")
    args = parser.parse_args()
    # Fitted on named columns, called on the bare array: the name check warns, costs nothing.
    warnings.filterwarnings("ignore", message="X does not have valid feature names")
    model, train_X, _ = train()
    features = list(train_X.columns)
    X = np.ascontiguousarray(rows(features)[features].to_numpy())
    raw_call(model, X[:10_000])  # untimed warm-up
    best = min(raw_call(model, X) for _ in range(args.reps))
    print(
        json.dumps(
            {
                "tool": "scikit-learn",
                "version": sklearn.__version__,
                "python": platform.python_version(),
                "results": {CASE: best},
                "case_notes": {},
                "notes": [
                    "scikit-learn: one `predict_proba` call on the rows already in memory as a "
                    f"{X.shape[0]:,} x {X.shape[1]} float64 array ({X.nbytes / 2**20:,.0f} MiB); "
                    "no file read or written.",
                ],
            }
        )
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
