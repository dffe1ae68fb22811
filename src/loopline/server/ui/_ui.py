"""The web UI's page machinery: who is calling, CSRF, rendering, and the page and action
wrappers every route goes through.

Who is calling comes from the server's AuthMiddleware (the `loopline_token` cookie set by
the login page, or a bearer token); what they may do is decided by `authorize` and the
governed store, exactly as for the REST API. The UI only asks first so that a refusal is a
readable 403 page before anything is attempted.

Changes are POST forms with two CSRF defences: the session cookie is SameSite=Strict, and
every form carries a token derived from the session secret (which page scripts cannot read:
the cookie is HttpOnly) that must come back with it; a request whose Origin names another
site is refused as well.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from loopline._version import __version__
from loopline.errors import LooplineError, PermissionDeniedError
from loopline.identity import (
    PERMISSIONS,
    Principal,
    alias_action,
    authorize,
    current_principal,
    roles_allowed,
)
from loopline.server._middleware import request_token
from loopline.server.ui import _views as views
from loopline.store import ArtifactStore, MetadataStore

log = logging.getLogger("loopline.server.ui")
HERE = Path(__file__).parent
STATIC_PREFIX = "/static/ui"
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
NAV = (
    ("overview", "/", "Overview"),
    ("runs", "/runs", "Runs"),
    ("data", "/data", "Data"),
    ("approvals", "/approvals", "Approvals"),
    ("monitoring", "/monitoring", "Monitoring"),
    ("pipelines", "/pipelines", "Pipelines"),
    ("prompts", "/prompts", "Prompts"),
    ("traces", "/traces", "Traces"),
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
    env.filters["utc"] = views.utc
    env.filters["ago"] = views.ago
    env.filters["clip"] = views.clip
    env.globals["static"] = STATIC_PREFIX
    env.globals["version"] = __version__
    return env


def local_next(target: str | None) -> str:
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
        llm_dir: Path | None = None,
    ) -> None:
        self.store = store
        self.artifacts = artifacts
        self.capture_dir = capture_dir
        self.llm_dir = llm_dir
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
            alias_action=alias_action,
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
        form = await read_form(request)
        try:
            self.check_post(request, form)
            target = await run_in_threadpool(do, form)
        except LooplineError as exc:
            return self.error(request, exc)
        return RedirectResponse(target, status_code=303)


async def read_form(request: Request) -> dict[str, str]:
    body = (await request.body()).decode("utf-8", "replace")
    return {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}


def query_int(value: str | None, default: int = 1, high: int = 10**6) -> int:
    """A page number or id from the query string, within [0, high] (else the default)."""
    try:
        n = int(value) if value not in (None, "") and len(value or "") <= 12 else default
    except ValueError:
        return default
    return n if 0 <= n <= high else default


__all__ = ["HERE", "STATIC_PREFIX", "UI", "local_next", "query_int", "read_form"]
