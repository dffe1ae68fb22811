"""Deliberately broken challengers, importable by path so they can be pickled and served.

They are classes of the tests' own, so they are logged with `unsafe_pickle=True` and served
with `LOOPLINE_ALLOW_UNSAFE_PICKLE=1`: each runs in a credential-free child process."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd


class FailsOnSomeRows:
    """Wraps a classifier and raises on about one row in five (by the value of 'a')."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.classes_ = inner.classes_

    def _check(self, X: pd.DataFrame) -> None:
        if (np.floor(np.abs(X["a"].to_numpy()) * 1e6) % 5 == 0).any():
            raise RuntimeError("challenger bug: cannot score this row")

    def predict(self, X: pd.DataFrame) -> Any:
        self._check(X)
        return self.inner.predict(X)

    def predict_proba(self, X: pd.DataFrame) -> Any:
        self._check(X)
        return self.inner.predict_proba(X)


class Slow:
    """Wraps a classifier and adds 200 ms to every call."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.classes_ = inner.classes_

    def predict(self, X: pd.DataFrame) -> Any:
        time.sleep(0.2)
        return self.inner.predict(X)

    def predict_proba(self, X: pd.DataFrame) -> Any:
        time.sleep(0.2)
        return self.inner.predict_proba(X)
