"""Signing in and out of the web UI: the login form and the session cookie.

The cookie holds the API token itself (HttpOnly, SameSite=Strict, Secure over https), so
the server's AuthMiddleware reads it exactly as it reads a bearer token; signing out
deletes it.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from loopline.errors import AuthenticationError, LooplineError, PermissionDeniedError
from loopline.server._middleware import COOKIE
from loopline.server.ui._ui import UI, local_next, read_form

log = logging.getLogger("loopline.server.ui")
SESSION_S = 12 * 3600


def session_routes(ui: UI) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/") -> Response:
        return ui.html(
            request, "login.html", {"section": None, "next": local_next(next), "message": None}
        )

    @router.post("/login")
    async def login(request: Request) -> Response:
        from loopline.ops._tokens import authenticate

        form = await read_form(request)
        target = local_next(form.get("next"))
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
        form = await read_form(request)
        try:
            ui.check_post(request, form)
        except LooplineError as exc:
            return ui.error(request, exc)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return response

    return router


__all__ = ["SESSION_S", "session_routes"]
