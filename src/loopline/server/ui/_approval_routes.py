"""The approvals page and its two buttons: approve a version, promote it to a protected alias.

Both buttons call the library the CLI calls (`loopline.registry.approve` for `loopline
models approve`, `loopline.gates.promote` for `loopline models promote`), in the caller's
identity. There is deliberately no role check of the UI's own before them: the governed
store refuses a role without the permission, and the store's promotion protocol refuses an
author approving their own version or a move the gate and approvals do not clear, so a
viewer's hand-made POST meets exactly the refusals a viewer's CLI call meets. The page only
hides the buttons a role may not use.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from loopline.server.ui import _views as views
from loopline.server.ui._ui import UI, query_int
from loopline.store import check_alias

REASON_CHARS = 500


def _back(name: str, query: str, version: int, alias: str) -> str:
    anchor = quote(f"pending-{name}-{version}-{alias}", safe="")
    return f"/approvals?model={quote(name, safe='')}&{query}#{anchor}"


def approval_routes(ui: UI) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/approvals", response_class=HTMLResponse)
    def approvals(request: Request) -> Response:
        q = request.query_params
        return ui.page(
            request,
            "approvals.html",
            "approvals",
            lambda s: views.approvals_page(
                s,
                query_int(q.get("page")),
                model=q.get("model") or None,
                moved=query_int(q.get("moved"), 0),
                decision=query_int(q.get("decision"), 0),
                approved=query_int(q.get("approved"), 0),
            ),
        )

    @router.post("/models/{name}/versions/{version}/approve")
    async def approve(request: Request, name: str, version: int) -> Response:
        def do(form: dict[str, str]) -> str:
            from loopline.registry import approve as registry_approve

            alias = check_alias(form.get("alias", "").strip() or "production")
            comment = form.get("comment", "").strip()[:REASON_CHARS] or None
            registry_approve(name, version, comment=comment)
            return _back(name, f"approved={version}", version, alias)

        return await ui.action(request, do)

    @router.post("/models/{name}/versions/{version}/promote")
    async def promote(request: Request, name: str, version: int) -> Response:
        def do(form: dict[str, str]) -> str:
            from loopline.gates import promote as gate_promote

            alias = check_alias(form.get("alias", "").strip() or "production")
            reason = form.get("reason", "").strip()[:REASON_CHARS] or "promoted from the web UI"
            result = gate_promote(name, version, alias, reason=reason)
            if result.move is not None:
                return _back(name, f"moved={result.move.id}", version, alias)
            return _back(name, f"decision={result.decision_id}", version, alias)

        return await ui.action(request, do)

    return router


__all__ = ["approval_routes"]
