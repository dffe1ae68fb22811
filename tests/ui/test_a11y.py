"""Every page of the web UI, in Debian's Chromium: a screenshot at 1280 and at 480 pixels
(test-artifacts/ui/pages/), no sideways scrolling of the page itself at either width, and
no accessibility violation that axe-core (vendored, tests/ui/vendor/) rates serious or
critical.

One test per page, so xdist can spread them over both workers and a failure names its page.
The signed-in pages share one browser page per module with carol's session cookie set directly
(the login form itself is driven by tests/ui/test_browser.py). They only read, and each test
sets the viewport and loads its page afresh, so sharing the page shares no state a test
could change."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ui._fill import MODEL
from tests.ui.conftest import ARTIFACTS, Site, charts_ready

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
WIDTHS = (1280, 480)
SERIOUS = ("serious", "critical")
PAGES = (
    "overview",
    "runs",
    "run",
    "compare",
    "data",
    "approvals",
    "model",
    "deployment",
    "monitors",
    "monitor",
    "pipelines",
    "prompts",
    "traces",
    "audit",
)


def _path(site: Site, name: str) -> str:
    """The path of page `name` (the login page is checked signed out)."""
    runs = site.filled.runs
    return {
        "login": "/login",
        "overview": "/",
        "runs": "/runs",
        "run": f"/runs/{runs[0]}",
        "compare": f"/runs/compare?run={runs[0]}&run={runs[1]}",
        "data": "/data",
        "approvals": "/approvals",
        "model": f"/models/{MODEL}",
        "deployment": f"/models/{MODEL}/deployment",
        "monitors": "/monitoring",
        "monitor": f"/monitoring/{site.filled.monitor_id}",
        "pipelines": "/pipelines",
        "prompts": "/prompts",
        "traces": "/traces",
        "audit": "/audit",
    }[name]


@pytest.fixture(scope="module")
def _carol(browser: Any, _site_session: Site) -> Iterator[Any]:
    """One page, signed in as carol (an approver: she sees every button there is), for the
    module: a page per test would cost a renderer and the vega bundles' compilation each."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    token = _site_session.token("carol", "approver")
    context.add_cookies([{"name": "loopline_token", "value": token, "url": _site_session.url}])
    pg = context.new_page()
    pg.js_errors = []
    pg.on("pageerror", lambda exc: pg.js_errors.append(str(exc)))
    yield pg
    context.close()


@pytest.fixture
def carol_page(_carol: Any) -> Any:
    """The module's page, with no script errors recorded yet."""
    _carol.js_errors.clear()
    return _carol


def _axe(page: Any) -> list[dict[str, Any]]:
    """Serious and critical violations on the page as axe-core reports them."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [v for v in result if v.get("impact") in SERIOUS]


def _describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        targets = [n["target"] for n in v["nodes"][:3]]
        lines.append(
            f"{v['impact']} {v['id']}: {v['help']} ({len(v['nodes'])} nodes, e.g. {targets})"
        )
    return "\n".join(lines)


def _check(page: Any, name: str, url: str, folder: Path) -> list[str]:
    """Load the page once per width, the viewport set first (charts size themselves when
    drawn). "load" is enough: the pages make no requests after it (no polling); the charts
    draw after it, so those pages wait for them."""
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(url, wait_until="load")
        if page.locator("script[data-for]").count():
            charts_ready(page)
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 1:
            problems.append(f"{name} scrolls sideways by {overflow}px at {width}px")
        bad = _axe(page)
        if bad:
            problems.append(f"{name} at {width}px:\n{_describe(bad)}")
    return problems


def _screenshot_and_axe(page: Any, site: Site, name: str) -> None:
    folder = ARTIFACTS / "pages"
    folder.mkdir(parents=True, exist_ok=True)
    problems = _check(page, name, site.url + _path(site, name), folder)
    assert not page.js_errors, f"{name}: {page.js_errors}"
    assert not problems, "\n".join(problems)
    for width in WIDTHS:
        assert (folder / f"{name}-{width}.png").is_file()


@pytest.mark.parametrize("name", PAGES)
def test_page_screenshot_and_axe(carol_page: Any, site: Site, name: str) -> None:
    _screenshot_and_axe(carol_page, site, name)


def test_login_page_screenshot_and_axe(page: Any, site: Site) -> None:
    """Signed out, in a fresh context of its own."""
    _screenshot_and_axe(page, site, "login")
