"""The LLM pages: prompts with their versions and evaluations, and the request traces."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from loopline.server.ui import _views as views
from loopline.server.ui._ui import UI


def llm_routes(ui: UI) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/prompts", response_class=HTMLResponse)
    def prompts(request: Request) -> Response:
        return ui.page(request, "prompts.html", "prompts", views.prompts_page)

    @router.get("/traces", response_class=HTMLResponse)
    def traces(request: Request) -> Response:
        q = request.query_params
        return ui.page(
            request,
            "traces.html",
            "traces",
            lambda _: views.traces_page(
                ui.llm_dir,
                q.get("prompt") or None,
                q.get("status") or None,
                q.get("before") or None,
            ),
        )

    return router


__all__ = ["llm_routes"]
