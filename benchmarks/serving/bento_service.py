"""The BentoML services of the serving benchmark: the minimal services a BentoML user writes.

Served by ``bentoml_side.py`` as ``bentoml serve bento_service:Bench`` (or ``:BenchBatched``)
with one worker; the model's joblib path comes in ``BENCH_MODEL_PATH``.

- ``Bench``: one sync API taking the same MLflow ``dataframe_split`` body as every other
  server, so one load generator feeds them all.
- ``BenchBatched``: BentoML's adaptive batching (``batchable=True``), its documented feature
  for many small concurrent requests: the worker's dispatcher gathers concurrent requests into
  one ``predict_proba`` call. A batchable API takes one array-like argument that BentoML
  concatenates along ``batch_dim``, so its body is ``{"data": [[30 floats]]}``: the same row
  as a 1 x 30 array.
"""

from __future__ import annotations

import os
from typing import Any

import bentoml
import joblib
import numpy as np
import pandas as pd

# At most one request per connection is in flight and the load peaks at 64 connections, so a
# batch never needs more than 64 rows. The latency bound is when BentoML starts refusing
# (503) rather than a target: the load generator's 10 s timeout, so the dispatcher's own
# latency regression decides the batch window and no request is refused early.
MAX_BATCH_SIZE, MAX_LATENCY_MS = 64, 10_000


@bentoml.service(workers=1)
class Bench:
    def __init__(self) -> None:
        self.model = joblib.load(os.environ["BENCH_MODEL_PATH"])

    # A sync method, as in BentoML's own examples: BentoML runs it in its thread pool.
    @bentoml.api(route="/invocations")
    def invocations(self, dataframe_split: dict[str, Any]) -> dict[str, Any]:
        frame = pd.DataFrame(dataframe_split["data"], columns=dataframe_split["columns"])
        return {"predictions": self.model.predict_proba(frame).tolist()}


@bentoml.service(workers=1)
class BenchBatched:
    def __init__(self) -> None:
        self.model = joblib.load(os.environ["BENCH_MODEL_PATH"])
        self.columns = list(self.model.feature_names_in_)

    @bentoml.api(
        route="/invocations",
        batchable=True,
        batch_dim=0,
        max_batch_size=MAX_BATCH_SIZE,
        max_latency_ms=MAX_LATENCY_MS,
    )
    def invocations(self, data: np.ndarray) -> np.ndarray:
        # The model was fitted on named columns: a DataFrame, as the other servers build.
        result: np.ndarray = self.model.predict_proba(pd.DataFrame(data, columns=self.columns))
        return result
