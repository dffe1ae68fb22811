"""Loopline: the whole model lifecycle loop in one package.

import loopline as ll
with ll.start_run(experiment="churn", params={"C": 0.5}) as run:
    run.log_metrics({"auc": 0.91}, step=3)
"""

from loopline._version import __version__
from loopline.errors import LooplineError
from loopline.models import Signature, infer_signature
from loopline.tracking import ActiveRun, ModelInfo, active_run, load_model, start_run

__all__ = [
    "ActiveRun",
    "LooplineError",
    "ModelInfo",
    "Signature",
    "__version__",
    "active_run",
    "infer_signature",
    "load_model",
    "start_run",
]
