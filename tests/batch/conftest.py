from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import GradientBoostingClassifier

import loopline as ll
from loopline.store import ModelVersion


@pytest.fixture
def customers(churn_like: tuple[pd.DataFrame, pd.Series]) -> pd.DataFrame:
    """800 rows: an id, the model's features a and b, and a column it does not read."""
    X, _ = churn_like
    return X.assign(customer_id=np.arange(1000, 1000 + len(X)))[
        ["customer_id", "a", "b", "segment"]
    ]


@pytest.fixture
def churn_v1(churn_like: tuple[pd.DataFrame, pd.Series]) -> ModelVersion:
    """A small gradient-boosted classifier on a and b, registered as churn/1.

    Trees score each row with the same arithmetic whatever the batch around it, so chunked
    scores can be held equal to one in-memory call bit for bit (a linear model's BLAS
    kernels cannot promise that: see test_linear_model_scores_match_to_the_last_bits).
    """
    X, y = churn_like
    features, labels = X[["a", "b"]].iloc[:600], y.iloc[:600]
    model = GradientBoostingClassifier(n_estimators=20, max_depth=2, random_state=0)
    with ll.start_run(experiment="churn") as run:
        info = run.log_model(
            model.fit(features, labels), signature=ll.infer_signature(X[["a", "b"]], y)
        )
    return ll.register_model(info, "churn")
