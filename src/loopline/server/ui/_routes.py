"""The web UI's routes, and mounting them: server-rendered Jinja2 pages over the metadata store.

The routes live by concern: `_session` (sign in and out), `_pages` (models and
deployments with their rollback forms, runs, monitoring, pipelines, data validation,
audit), `_approval_routes` (pending versions, approve and promote), `_llm_routes` (prompts,
traces); the machinery
they share (identity, CSRF, rendering, error pages) is `_ui.UI`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.staticfiles import StaticFiles

from loopline.server.ui._approval_routes import approval_routes
from loopline.server.ui._llm_routes import llm_routes
from loopline.server.ui._pages import model_routes, operations_routes, run_routes
from loopline.server.ui._session import session_routes
from loopline.server.ui._ui import HERE, STATIC_PREFIX, UI
from loopline.store import ArtifactStore, MetadataStore


def build_router(ui: UI) -> APIRouter:
    """Every UI route, in the order they are matched."""
    router = APIRouter(include_in_schema=False)
    parts = (session_routes, model_routes, run_routes, approval_routes, operations_routes)
    for part in (*parts, llm_routes):
        router.include_router(part(ui))
    return router


def mount_ui(
    app: FastAPI,
    store: Callable[[], MetadataStore],
    *,
    capture_dir: Path | None = None,
    require_login: bool = True,
    artifacts: Callable[[], ArtifactStore] | None = None,
    llm_dir: Path | None = None,
) -> None:
    """Serve the web UI from `app` at `/` (static files under /static/ui).

    `artifacts` is the artifact store pages read recorded content from (a pipeline run's
    spec); default: the one the settings name.

    `require_login=False` is for `loopline server --local` over the embedded store: there is
    no token, the caller is the local owner. `capture_dir` is where serving captures predictions
    (default `<home>/capture`), for the deployment page's live traffic; `llm_dir` where
    `loopline.llm.TraceLog` writes traces (default: `llm` beside the capture folder, both
    under the home), for the traces page. Mounting twice is a
    no-op, so tests may mount on an app that already has the UI.
    """
    if getattr(app.state, "loopline_ui", False):
        return
    app.state.loopline_ui = True
    if capture_dir is None or artifacts is None:
        from loopline.config import load_settings

        settings = load_settings()
        capture_dir = capture_dir or settings.home / "capture"
        if artifacts is None:
            from loopline.store import open_artifact_store

            def artifacts() -> ArtifactStore:
                return open_artifact_store(settings)

    # Import what the pages use now, so the server pays at start, not the first visitor.
    import loopline.monitoring
    import loopline.ops.dora
    import loopline.pipelines  # noqa: F401

    ui = UI(
        store,
        capture_dir=capture_dir,
        require_login=require_login,
        artifacts=artifacts,
        llm_dir=llm_dir or capture_dir.parent / "llm",
    )
    app.mount(STATIC_PREFIX, StaticFiles(directory=HERE / "static"), name="ui-static")
    app.include_router(build_router(ui))
    app.state.loopline_ui_started = time.time()


def create_ui_app(settings: Any = None) -> FastAPI:
    """The UI alone over the store the settings name, with no login: `loopline server --local`.

    Every request runs as the local owner (no principal), like the CLI on the same store.
    """
    from loopline.config import load_settings
    from loopline.store import open_artifact_store, open_metadata_store

    settings = settings or load_settings()

    def store() -> MetadataStore:
        return open_metadata_store(settings)

    def artifacts() -> ArtifactStore:
        return open_artifact_store(settings)

    store()  # open (and migrate) now: a bad database fails at start, not on the first page
    app = FastAPI(title="Loopline UI", docs_url=None, redoc_url=None, openapi_url=None)
    mount_ui(
        app,
        store,
        capture_dir=settings.home / "capture",
        require_login=False,
        artifacts=artifacts,
    )
    return app


__all__ = ["UI", "build_router", "create_ui_app", "mount_ui"]
