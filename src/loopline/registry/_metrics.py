"""Task metrics for evaluation: pure functions of labels, predictions and scores."""

from __future__ import annotations

from typing import Any

import numpy as np

# sklearn.metrics is imported where it is used: it costs ~1.5 s of CPU, and importing
# loopline.monitoring (every `monitors` and `prompts` command) reaches this module.
CLASSIFICATION = ("auc", "f1", "precision", "recall", "accuracy", "log_loss", "calibration_error")
REGRESSION = ("mae", "rmse", "r2", "mape")


def expected_calibration_error(y_true: np.ndarray, p_pos: np.ndarray, bins: int = 10) -> float:
    """Binary ECE: |mean score - observed rate| per equal-width bin, weighted by bin size."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(p_pos, edges[1:-1]), 0, bins - 1)
    total = len(p_pos)
    error = 0.0
    for b in range(bins):
        mask = idx == b
        n = int(mask.sum())
        if n:
            error += n / total * abs(float(p_pos[mask].mean()) - float(y_true[mask].mean()))
    return error


def classification_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None, classes: list[Any]
) -> dict[str, float]:
    """AUC, F1, precision, recall, accuracy, log loss and calibration error.

    Binary tasks score the second class as positive (sklearn's convention); multiclass
    tasks use macro averages and one-vs-rest AUC. Metrics that are undefined on the data
    (AUC with one class present) are left out rather than reported as NaN.
    """
    from sklearn import metrics as skm

    out: dict[str, float] = {"accuracy": float(skm.accuracy_score(y_true, y_pred))}
    binary = len(classes) == 2
    avg = "binary" if binary else "macro"
    pos = classes[1] if binary else 1
    kw: dict[str, Any] = {"average": avg, "zero_division": 0}
    if binary:
        kw["pos_label"] = pos
    out["f1"] = float(skm.f1_score(y_true, y_pred, **kw))
    out["precision"] = float(skm.precision_score(y_true, y_pred, **kw))
    out["recall"] = float(skm.recall_score(y_true, y_pred, **kw))
    if proba is not None and len(np.unique(y_true)) > 1:
        if binary:
            p = proba[:, 1] if proba.ndim == 2 else proba
            y01 = (y_true == pos).astype("int64")
            out["auc"] = float(skm.roc_auc_score(y01, p))
            out["log_loss"] = float(skm.log_loss(y01, np.clip(p, 1e-15, 1 - 1e-15)))
            out["calibration_error"] = expected_calibration_error(y01, p)
        else:
            out["auc"] = float(skm.roc_auc_score(y_true, proba, multi_class="ovr", labels=classes))
            out["log_loss"] = float(skm.log_loss(y_true, proba, labels=classes))
    return out


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """MAE, RMSE, R² and MAPE (MAPE left out when the truth contains zeros)."""
    from sklearn import metrics as skm

    y_true = y_true.astype("float64")
    y_pred = y_pred.astype("float64")
    out = {
        "mae": float(skm.mean_absolute_error(y_true, y_pred)),
        "rmse": float(np.sqrt(skm.mean_squared_error(y_true, y_pred))),
        "r2": float(skm.r2_score(y_true, y_pred)) if len(y_true) > 1 else 0.0,
    }
    if not np.any(y_true == 0):
        out["mape"] = float(skm.mean_absolute_percentage_error(y_true, y_pred))
    return out


__all__ = [
    "CLASSIFICATION",
    "REGRESSION",
    "classification_metrics",
    "expected_calibration_error",
    "regression_metrics",
]
