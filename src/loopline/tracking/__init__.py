"""Experiment tracking: runs, params, metrics, artifacts, datasets and automatic lineage."""

from loopline.tracking._lineage import capture_lineage, git_state
from loopline.tracking._liveness import StaleRun, reap_stale_runs, stale_runs
from loopline.tracking._load import load_model
from loopline.tracking._run import ActiveRun, ModelInfo, active_run, start_run

__all__ = [
    "ActiveRun",
    "ModelInfo",
    "StaleRun",
    "active_run",
    "capture_lineage",
    "git_state",
    "load_model",
    "reap_stale_runs",
    "stale_runs",
    "start_run",
]
