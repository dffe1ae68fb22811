"""Payload models for tests/security/test_model_loading.py, in a module of their own so the
child process that unpickles them imports little (numpy and pandas, not the test suite).

If ever run, `detonate` writes a marker file recording the pid of the process that ran it
and what it read from `os.environ["LOOPLINE_TOKEN"]` (and two other credentials).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def detonate(marker: str) -> Threshold:
    """What the payload runs: records who ran it and the token it could read."""
    try:
        token: str | None = os.environ["LOOPLINE_TOKEN"]
    except KeyError:
        token = None
    seen = {k: os.environ.get(k) for k in ("AWS_SECRET_ACCESS_KEY", "PGPASSWORD")}
    Path(marker).write_text(json.dumps({"pid": os.getpid(), "token": token, **seen}))
    return Threshold()


class Threshold:
    """A model of the author's own: class 1 when a > 0."""

    classes_ = np.array([0, 1])

    def predict(self, X: pd.DataFrame) -> np.ndarray[Any, Any]:
        return (X["a"].to_numpy() > 0).astype("int64")

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray[Any, Any]:
        p = 1 / (1 + np.exp(-X["a"].to_numpy()))
        return np.column_stack([1 - p, p])


class Payload(Threshold):
    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[Any, ...]:
        return (detonate, (self.marker,))


class Hostile:
    """Unpickling it anywhere writes the marker: a child answering with one must not."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (detonate, (self.marker,))


class AnswersWithObjects(Threshold):
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def predict(self, X: pd.DataFrame) -> np.ndarray[Any, Any]:
        out = np.empty(len(X), dtype=object)
        out[:] = [Hostile(self.marker) for _ in range(len(X))]
        return out
