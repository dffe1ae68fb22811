"""The web UI under test: one team server (REST API + UI) over a demo-like store, filled
once per session, and Debian's Chromium driven by Playwright.

Playwright's own browser download is not reachable here, so the browser is
/usr/bin/chromium (installed by `make services`); without it the browser tests skip and
say why. Screenshots go to test-artifacts/ui/.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from loopline.config import Settings, load_settings
from loopline.ops._roles import acting_as
from loopline.store import (
    MetadataStore,
    SqlMetadataStore,
    open_metadata_store,
    reset_store_cache,
)
from tests._team_server import _bootstrap_token, free_port
from tests.ui._fill import Filled, fill

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"


@dataclass
class Site:
    url: str
    settings: Settings
    store: MetadataStore  # ungoverned, for checking what the UI did
    filled: Filled
    server: uvicorn.Server
    thread: threading.Thread
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, user: str, role: str) -> str:
        key = f"{user}:{role}"
        if key not in self.tokens:
            with acting_as(None):
                self.tokens[key], _ = _bootstrap_token(self.store, user, role, "growth")
        return self.tokens[key]


def make_settings(home: Path) -> Settings:
    home.mkdir(parents=True, exist_ok=True)
    return replace(
        load_settings(),
        home=home,
        db_url=f"sqlite:///{home / 'loopline.db'}",
        artifacts_uri=str(home / "artifacts"),
        url="",
        token="",
    )


def team_app(settings: Settings) -> Any:
    """`create_app` plus the UI (mounting is a no-op once create_app mounts it itself)."""
    from loopline.server import create_app
    from loopline.server.ui import mount_ui

    app = create_app(settings)
    mount_ui(app, lambda: open_metadata_store(settings), capture_dir=settings.home / "capture")
    return app


@pytest.fixture(scope="session")
def _site_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    settings = make_settings(tmp_path_factory.mktemp("ui") / ".loopline")
    store = SqlMetadataStore(settings.db_url)
    filled = fill(store, settings.home)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            team_app(settings), host="127.0.0.1", port=port, log_level="warning", access_log=False
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "the UI server did not start"
    yield Site(f"http://127.0.0.1:{port}", settings, store, filled, server, thread)
    server.should_exit = True
    thread.join(10)
    store.close()


@pytest.fixture
def site(_site_session: Site, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    """The session's site, with this process's configuration pointing at its stores: the
    UI's actions call the library (`loopline.registry.rollback`, …), which opens the stores
    the settings name, as on a real server where both read one configuration."""
    settings = _site_session.settings
    for key in ("LOOPLINE_URL", "LOOPLINE_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("LOOPLINE_HOME", str(settings.home))
    monkeypatch.setenv("LOOPLINE_DB_URL", settings.db_url)
    monkeypatch.setenv("LOOPLINE_ARTIFACTS_URI", settings.artifacts_uri)
    reset_store_cache()
    yield _site_session


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (make services installs it as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) at 1280x800."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.js_errors = errors
    yield pg
    context.close()


def shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def login(page: Any, site: Site, user: str, role: str, target: str = "/") -> None:
    page.goto(site.url + target)
    page.wait_for_url("**/login**")
    page.fill("#token", site.token(user, role))
    page.click("button[type=submit]")
    # Signed in once the browser has left the login page for `target` and loaded it: the
    # pages make no requests after "load", so "networkidle" only added its 500 ms of quiet.
    page.wait_for_url(lambda url: "/login" not in url)


def http(site: Site, role: str | None = "approver", user: str = "alice") -> Any:
    """An HTTP client signed in as `user` with `role` (no cookie when role is None)."""
    import httpx

    cookies = {"loopline_token": site.token(user, role)} if role else {}
    return httpx.Client(base_url=site.url, cookies=cookies, follow_redirects=False, timeout=30)


def csrf_of(html: str) -> str:
    """The page's CSRF token (every page carries it in a meta tag)."""
    import re

    found = re.search(r'name="csrf-token" content="([0-9a-f]+)"', html)
    assert found, "no csrf meta tag"
    return found[1]


def charts_ready(page: Any, min_count: int = 1) -> int:
    """Wait until vega-embed has drawn at least `min_count` charts; how many it drew."""
    page.wait_for_function(
        f"document.querySelectorAll('.vl.ready svg').length >= {min_count}", timeout=15_000
    )
    return int(page.evaluate("document.querySelectorAll('.vl.ready svg').length"))
