"""Loopline: the whole model lifecycle loop in one package.

import loopline as ll
with ll.start_run(experiment="churn", params={"C": 0.5}) as run:
    run.log_metrics({"auc": 0.91}, step=3)
    info = run.log_model(model, signature=ll.infer_signature(X, y))
version = ll.register_model(info, "churn")
ll.promote("churn", version.version, alias="production", policy="gate.yaml")
ll.load_model("models:/churn@production").predict(X_new)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from loopline._version import __version__
from loopline.errors import LooplineError

if TYPE_CHECKING:
    from loopline.data import Contract, ValidationReport, validate
    from loopline.gates import promote
    from loopline.llm import load_prompt
    from loopline.models import Signature, infer_signature
    from loopline.policy import GatePolicy
    from loopline.registry import (
        approve,
        evaluate,
        lineage,
        load_model,
        register_model,
        rollback,
    )
    from loopline.tracking import ActiveRun, ModelInfo, active_run, start_run

# Public names are imported on first use, so `loopline --help` and `import loopline` stay
# fast: the model libraries (scikit-learn, pandas) load only when something needs them.
_LAZY = {
    "ActiveRun": "loopline.tracking",
    "Contract": "loopline.data",
    "ValidationReport": "loopline.data",
    "validate": "loopline.data",
    "GatePolicy": "loopline.policy",
    "ModelInfo": "loopline.tracking",
    "Signature": "loopline.models",
    "active_run": "loopline.tracking",
    "approve": "loopline.registry",
    "evaluate": "loopline.registry",
    "infer_signature": "loopline.models",
    "lineage": "loopline.registry",
    "load_model": "loopline.registry",
    "load_prompt": "loopline.llm",
    "promote": "loopline.gates",
    "register_model": "loopline.registry",
    "rollback": "loopline.registry",
    "start_run": "loopline.tracking",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'loopline' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "ActiveRun",
    "Contract",
    "GatePolicy",
    "LooplineError",
    "ModelInfo",
    "Signature",
    "ValidationReport",
    "__version__",
    "active_run",
    "approve",
    "evaluate",
    "infer_signature",
    "lineage",
    "load_model",
    "load_prompt",
    "promote",
    "register_model",
    "rollback",
    "start_run",
    "validate",
]
