"""The model registry: immutable versions, aliases, evaluation, approvals, rollback, lineage."""

from loopline.registry._evaluate import (
    Evaluation,
    compute_evaluation,
    evaluate_version,
    read_table,
    store_evaluation,
)
from loopline.registry._metrics import classification_metrics, regression_metrics
from loopline.registry._registry import (
    approve,
    evaluate,
    get_version,
    lineage,
    load_model,
    model_card,
    register_model,
    rollback,
    verify_version,
)
from loopline.registry._uri import ModelRef, parse_model_uri

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
