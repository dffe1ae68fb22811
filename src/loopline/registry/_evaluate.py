"""Evaluating a registered version on hold-out data: task metrics, per-slice metrics and
the gap between slices, latency per row. Results are stored on the version.

NumPy, pandas and scikit-learn are imported by the functions that compute, so importing the
registry (every `loopline models` command, `loopline.gates`) costs no model library."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loopline.config import current_user
from loopline.errors import InvalidInputError, LooplineError
from loopline.store import EvaluationRecord, ModelVersion, open_metadata_store

if TYPE_CHECKING:
    import pandas as pd

    from loopline.models import LoadedModel

_MIN_SLICE_ROWS = 30  # smaller slices make gaps out of noise
_LATENCY_SAMPLES = 50


@dataclass(frozen=True)
class Evaluation:
    version: ModelVersion
    record: EvaluationRecord

    @property
    def metrics(self) -> dict[str, float]:
        return self.record.metrics


def read_table(data: Any) -> pd.DataFrame:
    """A DataFrame from a frame-like object or a .parquet / .csv path."""
    import pandas as pd

    from loopline.data import as_frame

    if isinstance(data, str | Path):
        path = Path(data)
        if not path.exists():
            raise InvalidInputError(f"data file {path} does not exist", hint="check the path")
        try:
            if path.suffix == ".parquet":
                return pd.read_parquet(path)
            if path.suffix == ".csv":
                return pd.read_csv(path)
        except (ValueError, OSError) as exc:
            raise InvalidInputError(
                f"cannot read {path}: {exc}", hint="is the file what its extension says?"
            ) from None
        raise InvalidInputError(
            f"cannot read {path}: unknown extension", hint="use a .parquet or .csv file"
        )
    return as_frame(data)


def _task(model: LoadedModel, y: pd.Series) -> str:
    import pandas as pd

    out = model.signature.output if model.signature else None
    if out is not None and out.kind in ("classification", "regression"):
        return out.kind
    if pd.api.types.is_float_dtype(y) and y.nunique() > 20:
        return "regression"
    return "classification"


def _check_target(y: pd.Series, task: str) -> None:
    """Labels the task's metrics can use: every row labelled, numbers for a regression,
    classes (not amounts or scores) for a classifier. Otherwise scikit-learn raises from
    deep inside a metric, which reads as a bug in Loopline rather than in the data."""
    import pandas as pd

    missing = y.isna().to_numpy()
    if missing.any():
        raise InvalidInputError(
            f"target column {y.name!r} has {int(missing.sum())} missing value(s) "
            f"(first at row {int(missing.argmax())})",
            hint="evaluate on labelled rows only: drop or fill the rows without a label",
        )
    values = sorted(pd.unique(y).tolist(), key=str)
    if task == "regression" and not (
        pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)
    ):
        raise InvalidInputError(
            f"target column {y.name!r} holds {_sample(values)} but the model is a regression: "
            "its metrics need numbers",
            hint="pass the numeric label column the model was trained on",
        )
    if task == "classification" and pd.api.types.is_float_dtype(y):
        fractional = [v for v in values if float(v) != int(v)]
        if fractional:
            raise InvalidInputError(
                f"target column {y.name!r} holds continuous values ({_sample(fractional)}) "
                "but the model is a classifier",
                hint="pass the class labels the model was trained on (e.g. 0/1), not scores",
            )


def _predict(model: LoadedModel, X: pd.DataFrame, label: str) -> Any:
    """The model's predictions; a model that cannot score the data (no signature to check
    the columns first, so its library's own error) is a mistake in the data: one line."""
    import numpy as np

    try:
        return np.asarray(model.predict(X))
    except (ValueError, TypeError, KeyError) as exc:
        why = " ".join(str(exc).split())[:300]
        raise InvalidInputError(
            f"{label} cannot score this data: {why}",
            hint="pass the columns and dtypes the model was trained on (a model logged with "
            "a signature has each column checked by name first)",
        ) from exc


def _score(
    model: LoadedModel, X: pd.DataFrame, y: pd.Series, task: str, label: str = "the model"
) -> dict[str, float]:
    import numpy as np
    import pandas as pd

    from loopline.registry._metrics import classification_metrics, regression_metrics

    pred = _predict(model, X, label)
    if task == "regression":
        return regression_metrics(y.to_numpy(), pred)
    classes = sorted(pd.unique(y.dropna()).tolist())
    predicted = pd.unique(pred).tolist()
    if (
        classes
        and predicted
        and not {_family(v) for v in classes} & {_family(v) for v in predicted}
    ):
        # 'Yes'/'No' labels against a model trained on 0/1: sklearn would raise "Mix of
        # label input types" from deep inside a metric; say which column and what differs.
        raise InvalidInputError(
            f"target column {y.name!r} holds {_sample(classes)} but the model predicts "
            f"{_sample(sorted(predicted, key=str))}",
            hint="pass the label column the model was trained on, encoded the same way",
        )
    try:
        proba: np.ndarray | None = np.asarray(model.predict_proba(X))
    except LooplineError:
        proba = None
    if proba is not None and proba.ndim == 2 and proba.shape[1] != len(classes):
        classes = list(range(proba.shape[1])) if len(classes) < proba.shape[1] else classes
    return classification_metrics(y.to_numpy(), pred, proba, classes)


def _family(value: Any) -> str:
    """ "text" or "number": labels of different families can never match."""
    return "text" if isinstance(value, str | bytes) else "number"


def _sample(values: list[Any], n: int = 4) -> str:
    shown = ", ".join(repr(v) for v in values[:n])
    return shown + (f" and {len(values) - n} more" if len(values) > n else "")


def _latency(model: LoadedModel, X: pd.DataFrame) -> dict[str, float]:
    """Milliseconds per single-row call (p50, p95) and per row in one batch call."""
    import numpy as np

    n = min(_LATENCY_SAMPLES, len(X))
    single = []
    for i in range(n):
        t0 = time.perf_counter()
        model.predict(X.iloc[i : i + 1])
        single.append((time.perf_counter() - t0) * 1000)
    t0 = time.perf_counter()
    model.predict(X)
    batch = (time.perf_counter() - t0) * 1000 / max(len(X), 1)
    return {
        "latency_p50_ms": float(np.percentile(single, 50)),
        "latency_p95_ms": float(np.percentile(single, 95)),
        "latency_per_row_batch_ms": float(batch),
    }


def compute_evaluation(
    model: LoadedModel,
    df: pd.DataFrame,
    target: str,
    slices: Sequence[str] = (),
    *,
    label: str = "the model",
) -> tuple[str, dict[str, float], dict[str, Any]]:
    """(task, metrics, per-slice metrics) of `model` (called `label` in errors) on `df`.
    Pure apart from timing. Data it cannot use raises `InvalidInputError`."""
    if not len(df):
        raise InvalidInputError(
            "the evaluation data has no rows", hint="pass a hold-out with labelled rows"
        )
    if target not in df.columns:
        raise InvalidInputError(
            f"target column {target!r} is not in the data",
            hint=f"pass --target with one of: {', '.join(map(str, df.columns))}",
        )
    missing = [s for s in slices if s not in df.columns]
    if missing:
        raise InvalidInputError(
            f"slice column(s) {', '.join(missing)} not in the data", hint="check --slice names"
        )
    y = df[target]
    X = df.drop(columns=[target])
    task = _task(model, y)
    _check_target(y, task)
    metrics = _score(model, X, y, task, label)
    base = list(metrics)  # the gaps below are added to `metrics`: iterate over a snapshot
    per_slice: dict[str, Any] = {}
    for col in slices:
        groups: dict[str, dict[str, float]] = {}
        for value, idx in X.groupby(col, observed=True, dropna=False).groups.items():
            if len(idx) >= _MIN_SLICE_ROWS:
                groups[str(value)] = _score(model, X.loc[idx], y.loc[idx], task, label)
        per_slice[col] = groups
        for name in base:
            values = [g[name] for g in groups.values() if name in g]
            if len(values) >= 2:
                gap = max(values) - min(values)
                metrics[f"slice_gap.{name}"] = max(metrics.get(f"slice_gap.{name}", 0.0), gap)
    metrics.update(_latency(model, X))
    return task, metrics, per_slice


def evaluate_version(
    version: ModelVersion,
    model: LoadedModel,
    data: Any,
    target: str,
    slices: Sequence[str] = (),
) -> Evaluation:
    """Evaluate and store the result on the version."""
    df = read_table(data)
    if not len(df) and isinstance(data, str | Path):
        raise InvalidInputError(f"{data} has no rows", hint="pass a hold-out with labelled rows")
    task, metrics, per_slice = compute_evaluation(model, df, target, slices, label=version.uri)
    return store_evaluation(version, df, task, metrics, per_slice)


def store_evaluation(
    version: ModelVersion,
    df: pd.DataFrame,
    task: str,
    metrics: dict[str, float],
    per_slice: dict[str, Any],
) -> Evaluation:
    """Record an evaluation `compute_evaluation` made of `version` on `df`."""
    from loopline.data import fingerprint

    record = open_metadata_store().record_evaluation(
        version.model,
        version.version,
        dataset_fingerprint=fingerprint(df),
        task=task,
        metrics=metrics,
        slices=per_slice,
        recorded_by=current_user(),
    )
    return Evaluation(version, record)


__all__ = [
    "Evaluation",
    "compute_evaluation",
    "evaluate_version",
    "read_table",
    "store_evaluation",
]
