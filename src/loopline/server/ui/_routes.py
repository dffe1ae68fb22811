"""The web UI's routes: server-rendered Jinja2 pages over the metadata store.

Who is calling comes from the server's AuthMiddleware (the `loopline_token` cookie set by
the login page, or a bearer token); what they may do is decided by `authorize` and the
governed store, exactly as for the REST API. The UI only asks first so that a refusal is a
readable 403 page before anything is attempted.

Changes (rollback) call the same library function as the CLI (`loopline.registry.rollback`,
`loopline.serving` for deployments), never the store directly, so every check the library
makes (the sha256 of the version rolled back to, …) holds for the UI too. They are POST
forms with two CSRF defences: the session cookie is
SameSite=Strict, and every form carries a token derived from the session secret (which
page scripts cannot read: the cookie is HttpOnly) that must come back with it; a request
whose Origin names another site is refused as well.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.staticfiles import StaticFiles

from loopline._version import __version__
from loopline.errors import (
    AuthenticationError,
    InvalidInputError,
    LooplineError,
    PermissionDeniedError,
)
from loopline.identity import (
    PERMISSIONS,
    Principal,
    authorize,
    current_principal,
    roles_allowed,
)
from loopline.server._middleware import COOKIE, request_token
from loopline.server.ui import _views as views
from loopline.store import ArtifactStore, MetadataStore

log = logging.getLogger("loopline.server.ui")
HERE = Path(__file__).parent
STATIC_PREFIX = "/static/ui"
SESSION_S = 12 * 3600
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
NAV = (
    ("overview", "/", "Overview"),
    ("runs", "/runs", "Runs"),
    ("monitoring", "/monitoring", "Monitoring"),
    ("pipelines", "/pipelines", "Pipelines"),
    ("audit", "/audit", "Audit"),
)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = views.when
    env.filters["num"] = views.num
    env.filters["duration"] = views.duration
    env.globals["static"] = STATIC_PREFIX
    env.globals["version"] = __version__
    return env


def _local_next(target: str | None) -> str:
    """Only a path on this site (never `//host` or `https://…`) after login."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


class UI:
    def __init__(
        self,
        store: Callable[[], MetadataStore],
        *,
        capture_dir: Path | None,
        require_login: bool,
        artifacts: Callable[[], ArtifactStore] | None = None,
    ) -> None:
        self.store = store
        self.artifacts = artifacts
        self.capture_dir = capture_dir
        self.require_login = require_login
        self.env = _environment()
        self.dora = views.DoraCache()
        # Embedded mode has no session secret to derive the CSRF token from.
        self._local_secret = secrets.token_hex(32)

    # --- identity, CSRF ------------------------------------------------------------------------

    def principal(self) -> Principal | None:
        return current_principal()

    def signed_in(self) -> bool:
        return not self.require_login or self.principal() is not None

    def csrf_token(self, request: Request) -> str:
        secret = request_token(request.scope) or self._local_secret
        return hmac.new(secret.encode(), b"loopline-ui-csrf", hashlib.sha256).hexdigest()

    def check_post(self, request: Request, form: dict[str, str], *, csrf: bool = True) -> None:
        origin = request.headers.get("origin")
        if (
            origin
            and origin != "null"
            and urlsplit(origin).netloc != request.headers.get("host", "")
        ):
            raise PermissionDeniedError(
                f"form posted from another site ({origin})",
                hint="use the Loopline page itself",
            )
        if csrf and not hmac.compare_digest(form.get("csrf", ""), self.csrf_token(request)):
            raise PermissionDeniedError(
                "the form's security token is missing or stale",
                hint="reload the page and try again",
            )

    def can(self, action: str) -> bool:
        p = self.principal()
        return p is None or action in PERMISSIONS.get(p.role, frozenset())

    # --- rendering -----------------------------------------------------------------------------

    def html(
        self, request: Request, template: str, ctx: dict[str, Any], status: int = 200
    ) -> HTMLResponse:
        p = self.principal()
        body = self.env.get_template(template).render(
            request=request,
            path=request.url.path,
            nav=NAV,
            user=p,
            embedded=not self.require_login,
            csrf=self.csrf_token(request),
            can=self.can,
            roles_allowed=roles_allowed,
            **ctx,
        )
        return HTMLResponse(body, status_code=status, headers=self.headers())

    @staticmethod
    def headers() -> dict[str, str]:
        return {
            "content-security-policy": CSP,
            "x-content-type-options": "nosniff",
            "referrer-policy": "same-origin",
            "cache-control": "no-store",
        }

    def error(self, request: Request, exc: LooplineError) -> HTMLResponse:
        status = exc.http_status if 400 <= exc.http_status < 600 else 400
        titles = {401: "Sign in needed", 403: "Not allowed", 404: "Not found", 409: "Conflict"}
        return self.html(
            request,
            "error.html",
            {"status": status, "title": titles.get(status, "Error"), "exc": exc, "section": None},
            status,
        )

    def login_redirect(self, request: Request) -> RedirectResponse | None:
        if self.signed_in():
            return None
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    def page(
        self,
        request: Request,
        template: str,
        section: str | None,
        build: Callable[[MetadataStore], dict[str, Any]],
    ) -> Response:
        redirect = self.login_redirect(request)
        if redirect is not None:
            return redirect
        try:
            authorize("read")
            return self.html(request, template, {"section": section, **build(self.store())})
        except LooplineError as exc:
            return self.error(request, exc)
        except Exception:
            log.exception("UI page %s failed", request.url.path)
            return self.html(
                request,
                "error.html",
                {"status": 500, "title": "Internal error", "exc": None, "section": None},
                500,
            )

    async def action(
        self,
        request: Request,
        do: Callable[[dict[str, str]], str],
    ) -> Response:
        """A POST form: login required, Origin and CSRF checked, then `do` (in a worker
        thread, as the caller) returns where to go next."""
        redirect = self.login_redirect(request)
        if redirect is not None:
            return redirect
        form = await _form(request)
        try:
            self.check_post(request, form)
            target = await run_in_threadpool(do, form)
        except LooplineError as exc:
            return self.error(request, exc)
        return RedirectResponse(target, status_code=303)


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body()).decode("utf-8", "replace")
    return {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}


def _int(value: str | None, default: int = 1, high: int = 10**6) -> int:
    """A page number or id from the query string, within [0, high] (else the default)."""
    try:
        n = int(value) if value not in (None, "") and len(value or "") <= 12 else default
    except ValueError:
        return default
    return n if 0 <= n <= high else default


def build_router(ui: UI) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    # --- session -------------------------------------------------------------------------------

    @router.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/") -> Response:
        return ui.html(
            request, "login.html", {"section": None, "next": _local_next(next), "message": None}
        )

    @router.post("/login")
    async def login(request: Request) -> Response:
        from loopline.ops._tokens import authenticate

        form = await _form(request)
        target = _local_next(form.get("next"))
        try:
            ui.check_post(request, form, csrf=False)  # no session yet: Origin only
            secret = form.get("token", "").strip()
            principal = await run_in_threadpool(authenticate, secret, ui.store())
        except (AuthenticationError, PermissionDeniedError) as exc:
            ctx = {"section": None, "next": target, "message": exc.one_line()}
            return ui.html(request, "login.html", ctx, exc.http_status)
        log.info("UI sign-in: %s (%s)", principal.name, principal.role)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            COOKIE,
            secret,
            max_age=SESSION_S,
            path="/",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        form = await _form(request)
        try:
            ui.check_post(request, form)
        except LooplineError as exc:
            return ui.error(request, exc)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return response

    # --- pages ---------------------------------------------------------------------------------

    @router.get("/", response_class=HTMLResponse)
    def overview(request: Request) -> Response:
        return ui.page(request, "overview.html", "overview", lambda s: views.overview(s, ui.dora))

    @router.get("/models/{name}", response_class=HTMLResponse)
    def model(request: Request, name: str) -> Response:
        version = request.query_params.get("version")
        page = _int(request.query_params.get("page"))
        moved = _int(request.query_params.get("moved"), 0)

        def build(s: MetadataStore) -> dict[str, Any]:
            ctx = views.model_page(s, name, _int(version, 0) or None, page)
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
                name, alias, to_version=int(raw) if raw else None, reason=reason[:500]
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
                page=_int(q.get("page")),
            ),
        )

    @router.get("/runs/compare", response_class=HTMLResponse)
    def compare(request: Request) -> Response:
        ids = request.query_params.getlist("run")
        return ui.page(request, "compare.html", "runs", lambda s: views.compare_page(s, ids))

    @router.get("/runs/{run_id}", response_class=HTMLResponse)
    def run(request: Request, run_id: str) -> Response:
        return ui.page(request, "run.html", "runs", lambda s: views.run_page(s, run_id))

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

    @router.get("/audit", response_class=HTMLResponse)
    def audit(request: Request) -> Response:
        q = request.query_params
        return ui.page(
            request,
            "audit.html",
            "audit",
            lambda s: views.audit_page(s, q.get("q"), _int(q.get("page"))),
        )

    return router


def mount_ui(
    app: FastAPI,
    store: Callable[[], MetadataStore],
    *,
    capture_dir: Path | None = None,
    require_login: bool = True,
    artifacts: Callable[[], ArtifactStore] | None = None,
) -> None:
    """Serve the web UI from `app` at `/` (static files under /static/ui).

    `artifacts` is the artifact store pages read recorded content from (a pipeline run's
    spec); default: the one the settings name.

    `require_login=False` is for `loopline ui` over the embedded store: there is no token,
    the caller is the local owner. `capture_dir` is where serving captures predictions
    (default `<home>/capture`), for the deployment page's live traffic. Mounting twice is a
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

    ui = UI(store, capture_dir=capture_dir, require_login=require_login, artifacts=artifacts)
    app.mount(STATIC_PREFIX, StaticFiles(directory=HERE / "static"), name="ui-static")
    app.include_router(build_router(ui))
    app.state.loopline_ui_started = time.time()


def create_ui_app(settings: Any = None) -> FastAPI:
    """The UI alone over the store the settings name, with no login: `loopline ui`.

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
