"""The web UI's pages, and the two changes it makes: rolling back an alias or a deployment.

Each page is a `UI.page` over a builder in `_views` (read permission, login redirect and
error pages handled there). The changes call the same library functions as the CLI
(`loopline.registry.rollback`, `loopline.serving.rollback_deployment`), never the store
directly, so every check the library makes (the sha256 of the version rolled back to, …)
holds for the UI too.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from loopline.errors import InvalidInputError
from loopline.identity import authorize
from loopline.server.ui import _views as views
from loopline.server.ui._ui import UI, query_int
from loopline.store import MetadataStore


def model_routes(ui: UI) -> APIRouter:
    """The overview, a model's page and its deployment's, with their rollback forms."""
    router = APIRouter(include_in_schema=False)

    @router.get("/", response_class=HTMLResponse)
    def overview(request: Request) -> Response:
        return ui.page(request, "overview.html", "overview", lambda s: views.overview(s, ui.dora))

    @router.get("/models/{name}", response_class=HTMLResponse)
    def model(request: Request, name: str) -> Response:
        version = request.query_params.get("version")
        page = query_int(request.query_params.get("page"))
        moved = query_int(request.query_params.get("moved"), 0)

        def build(s: MetadataStore) -> dict[str, Any]:
            ctx = views.model_page(s, name, query_int(version, 0) or None, page)
            ctx["moved"] = next((m for m in ctx["history"] if m.id == moved), None)
            return ctx

        return ui.page(request, "model.html", "overview", build)

    @router.post("/models/{name}/aliases/{alias}/rollback")
    async def rollback(request: Request, name: str, alias: str) -> Response:
        def do(form: dict[str, str]) -> str:
            from loopline.registry import rollback as registry_rollback

            authorize("rollback")
            raw = form.get("to_version", "").strip()
            if raw and not (raw.isdigit() and len(raw) <= 9):
                raise InvalidInputError(f"version {raw[:20]!r} is not a number", hint="e.g. 3")
            reason = form.get("reason", "").strip() or "rolled back from the web UI"
            move, _ = registry_rollback(
                name, alias, version=int(raw) if raw else None, reason=reason[:500]
            )
            return f"/models/{quote(name)}?moved={move.id}#history"

        return await ui.action(request, do)

    @router.get("/models/{name}/deployment", response_class=HTMLResponse)
    def deployment(request: Request, name: str) -> Response:
        return ui.page(
            request,
            "deployment.html",
            "overview",
            lambda s: views.deployment_page(s, name, ui.capture_dir),
        )

    @router.post("/models/{name}/deployment/rollback")
    async def deployment_rollback(request: Request, name: str) -> Response:
        def do(form: dict[str, str]) -> str:
            from loopline.serving import rollback_deployment

            authorize("deploy")
            reason = (form.get("reason", "").strip() or "rolled back from the web UI")[:500]
            rollback_deployment(name, reason=reason)
            return f"/models/{quote(name)}/deployment"

        return await ui.action(request, do)

    return router


def run_routes(ui: UI) -> APIRouter:
    """The runs list, a run, and runs side by side."""
    router = APIRouter(include_in_schema=False)

    @router.get("/runs", response_class=HTMLResponse)
    def runs(request: Request) -> Response:
        q = request.query_params
        return ui.page(
            request,
            "runs.html",
            "runs",
            lambda s: views.runs_page(
                s,
                experiment=q.get("experiment"),
                status=q.get("status"),
                tag=q.get("tag"),
                sort=q.get("sort"),
                page=query_int(q.get("page")),
            ),
        )

    # Before /runs/{run_id}, which would otherwise take "compare" for a run id.
    @router.get("/runs/compare", response_class=HTMLResponse)
    def compare(request: Request) -> Response:
        ids = request.query_params.getlist("run")
        return ui.page(request, "compare.html", "runs", lambda s: views.compare_page(s, ids))

    @router.get("/runs/{run_id}", response_class=HTMLResponse)
    def run(request: Request, run_id: str) -> Response:
        return ui.page(request, "run.html", "runs", lambda s: views.run_page(s, run_id))

    return router


def operations_routes(ui: UI) -> APIRouter:
    """Monitoring, pipelines, data validation and the audit log."""
    router = APIRouter(include_in_schema=False)

    @router.get("/monitoring", response_class=HTMLResponse)
    def monitoring(request: Request) -> Response:
        model = request.query_params.get("model") or None
        return ui.page(
            request,
            "monitoring_index.html",
            "monitoring",
            lambda s: views.monitoring_index(s, model),
        )

    @router.get("/monitoring/{monitor_id}", response_class=HTMLResponse)
    def monitor(request: Request, monitor_id: int) -> Response:
        raw = request.query_params.get("window") or ""
        ok = 0 < len(raw) <= 20 and raw.replace(".", "", 1).isdigit()
        window = float(raw) if ok else None
        return ui.page(
            request,
            "monitoring.html",
            "monitoring",
            lambda s: views.monitoring_page(s, monitor_id, window),
        )

    @router.get("/pipelines", response_class=HTMLResponse)
    def pipelines(request: Request) -> Response:
        artifacts = ui.artifacts
        return ui.page(
            request,
            "pipelines.html",
            "pipelines",
            lambda s: views.pipelines_page(s, artifacts() if artifacts else None),
        )

    @router.get("/data", response_class=HTMLResponse)
    def data(request: Request) -> Response:
        q = request.query_params
        artifacts = ui.artifacts
        return ui.page(
            request,
            "data.html",
            "data",
            lambda s: views.data_page(
                s,
                artifacts() if artifacts else None,
                q.get("name") or None,
                query_int(q.get("before"), 0, high=10**12) or None,
            ),
        )

    @router.get("/audit", response_class=HTMLResponse)
    def audit(request: Request) -> Response:
        q = request.query_params
        return ui.page(
            request,
            "audit.html",
            "audit",
            lambda s: views.audit_page(s, q.get("q"), query_int(q.get("page"))),
        )

    return router


__all__ = ["model_routes", "operations_routes", "run_routes"]
