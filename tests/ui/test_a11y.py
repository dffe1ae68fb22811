"""Every page of the web UI, in Debian's Chromium: a screenshot at 1280 and at 480 pixels
(test-artifacts/ui/pages/), no sideways scrolling of the page itself at either width, and
no accessibility violation that axe-core (vendored, tests/ui/vendor/) rates serious or
critical."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.ui._fill import MODEL
from tests.ui.conftest import ARTIFACTS, Site, charts_ready, login

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
WIDTHS = (1280, 480)
SERIOUS = ("serious", "critical")


def _pages(site: Site) -> dict[str, str]:
    """name → path of every page (the login page is checked signed out, below)."""
    runs = site.filled.runs
    return {
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
    }


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


def _check(page: Any, name: str, folder: Path) -> list[str]:
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.reload()
        page.wait_for_load_state("networkidle")
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


@pytest.mark.parametrize("signed_in", [True, False], ids=["pages", "login"])
def test_every_page_screenshot_and_axe(page: Any, site: Site, signed_in: bool) -> None:
    folder = ARTIFACTS / "pages"
    folder.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    if not signed_in:
        page.goto(site.url + "/login")
        problems += _check(page, "login", folder)
    else:
        login(page, site, "carol", "approver")
        for name, path in _pages(site).items():
            page.goto(site.url + path)
            problems += _check(page, name, folder)
            assert not page.js_errors, f"{name}: {page.js_errors}"
    assert not problems, "\n".join(problems)
    shots = sorted(p.name for p in folder.glob("*.png"))
    expected = ["login"] if not signed_in else list(_pages(site))
    for name in expected:
        assert {f"{name}-{w}.png" for w in WIDTHS} <= set(shots)
