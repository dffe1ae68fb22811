"""What each page shows: plain functions from the metadata store to a template context.

No rule lives here that the library does not already hold: the pages read through the
(governed) store and call the library for every change. Every query is bounded — a page,
a window of time or a fixed number of rows — so a page costs the same with 10 runs or
10,000 (benchmarks/ui/pages.py).
"""

from loopline.server.ui._views._approvals import approvals_page
from loopline.server.ui._views._audit import audit_page
from loopline.server.ui._views._common import ago, clip, duration, num, utc, when
from loopline.server.ui._views._data import data_page
from loopline.server.ui._views._deployment import deployment_page
from loopline.server.ui._views._llm import prompts_page, traces_page
from loopline.server.ui._views._model import model_page
from loopline.server.ui._views._monitoring import monitoring_index, monitoring_page
from loopline.server.ui._views._overview import DoraCache, overview
from loopline.server.ui._views._pipelines import pipelines_page
from loopline.server.ui._views._runs import compare_page, run_page, runs_page

__all__ = [
    "DoraCache",
    "ago",
    "approvals_page",
    "audit_page",
    "clip",
    "compare_page",
    "data_page",
    "deployment_page",
    "duration",
    "model_page",
    "monitoring_index",
    "monitoring_page",
    "num",
    "overview",
    "pipelines_page",
    "prompts_page",
    "run_page",
    "runs_page",
    "traces_page",
    "utc",
    "when",
]
