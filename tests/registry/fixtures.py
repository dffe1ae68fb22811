from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import loopline as ll
from loopline.store import ModelVersion


@pytest.fixture
def churn_like() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "a": rng.normal(size=800),
            "b": rng.normal(size=800),
            "segment": rng.choice(["north", "south"], 800),
        }
    )
    y = pd.Series(
        (X["a"] + 0.5 * X["b"] + rng.normal(scale=0.7, size=800) > 0).astype("int64"), name="label"
    )
    return X, y


@pytest.fixture
def holdout(tmp_path: Path, churn_like: tuple[pd.DataFrame, pd.Series]) -> Path:
    X, y = churn_like
    path = tmp_path / "holdout.parquet"
    pd.concat([X, y], axis=1).iloc[600:].to_parquet(path)
    return path


@pytest.fixture
def train_version(
    churn_like: tuple[pd.DataFrame, pd.Series],
) -> Callable[..., ModelVersion]:
    """Train a logistic regression on the first 600 rows (labels optionally corrupted),
    log it, and register it as the next version of 'churn'."""
    X, y = churn_like

    def make(corrupt: bool = False, name: str = "churn") -> ModelVersion:
        features = X[["a", "b"]].iloc[:600]
        labels = y.iloc[:600]
        if corrupt:
            labels = pd.Series(1 - labels.to_numpy(), index=labels.index, name="label")
        with ll.start_run(experiment="churn", params={"corrupt": corrupt}) as run:
            run.log_dataset(pd.concat([features, labels], axis=1), name="train")
            model = LogisticRegression().fit(features, labels)
            info = run.log_model(model, signature=ll.infer_signature(features, labels))
        return ll.register_model(info, name)

    return make
