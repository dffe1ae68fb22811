"""The model registry: immutable versions, aliases, evaluation, approvals, rollback, lineage.

Importing it loads no model library (the CLI's lookups stay fast): pandas and scikit-learn
come in with the first evaluation or model load, the metric functions on first access.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from loopline.registry._evaluate import (
    Evaluation,
    compute_evaluation,
    evaluate_version,
    read_table,
    store_evaluation,
)
from loopline.registry._registry import (
    approve,
    evaluate,
    get_version,
    lineage,
    list_versions,
    load_model,
    model_card,
    register_model,
    rollback,
    verify_version,
)
from loopline.registry._uri import ModelRef, parse_model_uri

if TYPE_CHECKING:
    from loopline.registry._metrics import classification_metrics, regression_metrics


def __getattr__(name: str) -> Any:
    # The metric functions import scikit-learn: loaded on first use, not with the registry.
    if name in ("classification_metrics", "regression_metrics"):
        from loopline.registry import _metrics

        return getattr(_metrics, name)
    raise AttributeError(f"module 'loopline.registry' has no attribute {name!r}")


__all__ = [
    "Evaluation",
    "ModelRef",
    "approve",
    "classification_metrics",
    "compute_evaluation",
    "evaluate",
    "evaluate_version",
    "get_version",
    "lineage",
    "list_versions",
    "load_model",
    "model_card",
    "parse_model_uri",
    "read_table",
    "register_model",
    "regression_metrics",
    "rollback",
    "store_evaluation",
    "verify_version",
]
