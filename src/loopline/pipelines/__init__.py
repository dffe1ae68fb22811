"""Pipelines: `loopline.yaml` specs, a runner with step caching and retries, continuous
training (cron schedules, drift and new-data triggers), environments, CI templates, PR
reports and workflow diagrams.

from loopline.pipelines import load_pipeline, run_pipeline
spec = load_pipeline("examples/churn/loopline.yaml")
result = run_pipeline(spec, params={"week": 3}, trigger="schedule")
result.promotion, result.promotion_reason      # "rejected", "staging: v4 gate failed: …"
"""

from loopline._cron import Cron, cron_matches, describe_cron, next_fire, parse_cron
from loopline.pipelines._cache import StepCache, StoredOutput
from loopline.pipelines._ci import PROVIDERS, ci_workflow, write_ci_workflow
from loopline.pipelines._data import load_dataset, publish_dataset
from loopline.pipelines._diagram import DIAGRAM_FORMATS, diagram_graph, render_diagram
from loopline.pipelines._load import load_pipeline, parse_pipeline
from loopline.pipelines._report import PrReport, pr_report
from loopline.pipelines._results import (
    PROMOTION_OUTCOMES,
    PipelineResult,
    StepEvent,
    StepResult,
    promotion_summary,
)
from loopline.pipelines._runner import TRIGGER_KINDS, plan, resolve_params, run_pipeline
from loopline.pipelines._scheduler import Firing, Scheduler, run_scheduler
from loopline.pipelines._spec import (
    CiSpec,
    DeploySpec,
    EnvironmentSpec,
    PipelineSpec,
    ScheduleSpec,
    StepSpec,
    TriggerSpec,
)
from loopline.pipelines._yaml import PipelineSpecError

__all__ = [
    "DIAGRAM_FORMATS",
    "PROMOTION_OUTCOMES",
    "PROVIDERS",
    "TRIGGER_KINDS",
    "CiSpec",
    "Cron",
    "DeploySpec",
    "EnvironmentSpec",
    "Firing",
    "PipelineResult",
    "PipelineSpec",
    "PipelineSpecError",
    "PrReport",
    "ScheduleSpec",
    "Scheduler",
    "StepCache",
    "StepEvent",
    "StepResult",
    "StepSpec",
    "StoredOutput",
    "TriggerSpec",
    "ci_workflow",
    "cron_matches",
    "describe_cron",
    "diagram_graph",
    "load_dataset",
    "load_pipeline",
    "next_fire",
    "parse_cron",
    "parse_pipeline",
    "plan",
    "pr_report",
    "promotion_summary",
    "publish_dataset",
    "render_diagram",
    "resolve_params",
    "run_pipeline",
    "run_scheduler",
    "write_ci_workflow",
]
