"""The serving benchmark's model and request bodies, built the same way on every side.

A scikit-learn ``GradientBoostingClassifier`` on ``load_breast_cancer`` (ships with scikit-learn,
no download), trained deterministically, so every side trains its own copy in its own venv and
all serve the same model. Every venv pins the same scikit-learn (1.9.*), so there is no pickle
crossing versions.

    python benchmarks/serving/model.py OUT_DIR     # writes model.joblib, mlflow.json, v2.json
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import GradientBoostingClassifier

SEED = 0
MODEL_FILE, MLFLOW_BODY, V2_BODY = "model.joblib", "mlflow.json", "v2.json"


@dataclass(frozen=True)
class Prepared:
    """What a side needs: the training data, the fitted model and the files written for it."""

    X: pd.DataFrame
    y: pd.Series
    model: GradientBoostingClassifier
    model_path: Path  # joblib file
    mlflow_body: Path  # single-row request, MLflow scoring protocol (`dataframe_split`)
    v2_body: Path  # the same row, Open Inference Protocol v2


def train() -> tuple[pd.DataFrame, pd.Series, GradientBoostingClassifier]:
    """Fit the benchmark model; same data, same seed, same trees on every side."""
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = GradientBoostingClassifier(random_state=SEED).fit(X, y)
    return X, y, model


def mlflow_request(row: pd.DataFrame) -> dict[str, Any]:
    """``{"dataframe_split": {"columns": [...], "data": [[...]]}}``, as `mlflow models serve`."""
    return {
        "dataframe_split": {
            "columns": [str(c) for c in row.columns],
            "data": [[float(v) for v in r] for r in row.itertuples(index=False)],
        }
    }


def v2_request(row: pd.DataFrame) -> dict[str, Any]:
    """Open Inference Protocol v2, one named FP64 tensor per column (the pandas codec layout)."""
    return {
        "inputs": [
            {"name": str(c), "shape": [len(row)], "datatype": "FP64", "data": row[c].tolist()}
            for c in row.columns
        ]
    }


def prepare(folder: Path) -> Prepared:
    """Train, save the model with joblib and write both request bodies into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    X, y, model = train()
    model_path = folder / MODEL_FILE
    joblib.dump(model, model_path)
    row = X.iloc[[0]]
    mlflow_body, v2_body = folder / MLFLOW_BODY, folder / V2_BODY
    # json.dumps writes floats with repr(), so the row round-trips bit for bit.
    mlflow_body.write_text(json.dumps(mlflow_request(row)))
    v2_body.write_text(json.dumps(v2_request(row)))
    return Prepared(X, y, model, model_path, mlflow_body, v2_body)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUT_DIR")
    done = prepare(Path(sys.argv[1]))
    print(f"wrote {done.model_path}, {done.mlflow_body}, {done.v2_body}")
