"""The BentoML service of the serving benchmark: the minimal service a BentoML user writes.

Served by ``bentoml_side.py`` as ``bentoml serve bento_service:Bench`` with one worker; the
model's joblib path comes in ``BENCH_MODEL_PATH``. The API takes the same MLflow
``dataframe_split`` body as every other server, so one load generator feeds them all.
"""

from __future__ import annotations

import os
from typing import Any

import bentoml
import joblib
import pandas as pd


@bentoml.service(workers=1)
class Bench:
    def __init__(self) -> None:
        self.model = joblib.load(os.environ["BENCH_MODEL_PATH"])

    # A sync method, as in BentoML's own examples: BentoML runs it in its thread pool.
    @bentoml.api(route="/invocations")
    def invocations(self, dataframe_split: dict[str, Any]) -> dict[str, Any]:
        frame = pd.DataFrame(dataframe_split["data"], columns=dataframe_split["columns"])
        return {"predictions": self.model.predict_proba(frame).tolist()}
