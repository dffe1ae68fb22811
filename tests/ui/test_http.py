"""The web UI over HTTP, without a browser: sign-in redirects, error pages, CSRF and Origin
checks, security headers, and `loopline ui` over the embedded store (no login)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from loopline.config import load_settings
from loopline.errors import ConfigError
from loopline.store import SqlMetadataStore
from tests.ui._fill import MODEL, fill
from tests.ui.conftest import Site


def _client(site: Site, role: str | None = "approver", user: str = "alice") -> httpx.Client:
    cookies = {"loopline_token": site.token(user, role)} if role else {}
    return httpx.Client(base_url=site.url, cookies=cookies, follow_redirects=False, timeout=30)


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf-token" content="([0-9a-f]+)"', html)
    assert m, "no csrf meta tag"
    return m[1]


def test_signed_out_goes_to_login_and_back(site: Site) -> None:
    with _client(site, None) as c:
        r = c.get("/runs?status=finished")
        assert r.status_code == 303
        assert r.headers["location"] == "/login?next=%2Fruns%3Fstatus%3Dfinished"
        r = c.post("/login", data={"token": "ll_nope", "next": "/runs"})
        assert r.status_code == 401 and "text/html" in r.headers["content-type"]
        assert "sign in" in r.text.lower()
        # Only a path on this site after sign-in: no open redirect.
        r = c.post("/login", data={"token": site.token("alice", "approver"), "next": "//evil"})
        assert r.status_code == 303 and r.headers["location"] == "/"
        assert "httponly" in r.headers["set-cookie"].lower()
        assert "samesite=strict" in r.headers["set-cookie"].lower()


def test_pages_and_error_pages(site: Site) -> None:
    with _client(site) as c:
        r = c.get("/")
        assert r.status_code == 200
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"
        r = c.get("/models/no-such-model")
        assert r.status_code == 404 and "text/html" in r.headers["content-type"]
        assert "404 Not found" in r.text and "no-such-model" in r.text
        r = c.get(f"/runs/compare?run={site.filled.runs[0]}")
        assert r.status_code == 422 and "compare needs 2 to 10 runs" in r.text
        r = c.get("/runs?sort=bogus+sideways")
        assert r.status_code == 200 and 'role="alert"' in r.text
        assert c.get("/monitoring/999").status_code == 404
        assert c.get("/static/ui/vendor/vega-lite-6.4.3.min.js").status_code == 200


def test_rollback_needs_csrf_and_same_origin(site: Site) -> None:
    holder = site.store.get_model(MODEL).aliases["production"]
    url = f"/models/{MODEL}/aliases/production/rollback"
    with _client(site) as c:
        token = _csrf(c.get(f"/models/{MODEL}").text)
        r = c.post(url, data={})
        assert r.status_code == 403 and "security token" in r.text
        r = c.post(url, data={"csrf": token}, headers={"origin": "https://evil.example"})
        assert r.status_code == 403 and "another site" in r.text
    with _client(site, "viewer", "victor") as c:
        r = c.post(url, data={"csrf": _csrf(c.get("/").text)})
        assert r.status_code == 403 and "may not rollback" in r.text
    with _client(site, "approver") as c:  # an approver may not stop a rollout (deploy)
        r = c.post(f"/models/{MODEL}/deployment/rollback", data={"csrf": token})
        assert r.status_code == 403 and "may not deploy" in r.text
    assert site.store.get_model(MODEL).aliases["production"] == holder
    assert site.store.active_deployment(MODEL) is not None


def test_logout_clears_the_cookie(site: Site) -> None:
    with _client(site) as c:
        token = _csrf(c.get("/").text)
        r = c.post("/logout", data={"csrf": token})
        assert r.status_code == 303 and r.headers["location"] == "/login"
        assert 'loopline_token=""' in r.headers["set-cookie"] or "max-age=0" in (
            r.headers["set-cookie"].lower()
        )


def test_loopline_ui_embedded_store_no_login(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    from loopline.server.ui import create_ui_app

    monkeypatch.setenv("LOOPLINE_USER", "owner")
    settings = load_settings()
    store = SqlMetadataStore(settings.db_url)
    filled = fill(store, settings.home, n_runs=3, n_versions=4, steps=3, n_windows=3)
    client = TestClient(create_ui_app(settings), follow_redirects=False)
    page = client.get(f"/models/{MODEL}")
    assert page.status_code == 200 and "local store" in page.text
    before = filled.production
    r = client.post(
        f"/models/{MODEL}/aliases/production/rollback",
        data={"csrf": _csrf(page.text), "reason": "bad canary"},
    )
    assert r.status_code == 303, r.text
    assert store.get_model(MODEL).aliases["production"] != before
    event = store.list_audit_events()[-1]
    assert (event.action, event.actor, event.reason) == ("rollback", "owner", "bad canary")
    r = client.post(f"/models/{MODEL}/deployment/rollback", data={"csrf": _csrf(page.text)})
    assert r.status_code == 303
    assert store.list_deployments(MODEL)[-1].status == "rolled_back"
    for path in ("/", "/runs", "/pipelines", "/audit", f"/monitoring/{filled.monitor_id}"):
        assert client.get(path).status_code == 200, path
    store.close()


def test_loopline_ui_listens_on_loopback_only() -> None:
    from loopline.cli._ui import run_local_ui  # `loopline server --local` (it was `ui`)

    with pytest.raises(ConfigError, match="only listens on this machine"):
        run_local_ui(host="0.0.0.0", port=8001)
