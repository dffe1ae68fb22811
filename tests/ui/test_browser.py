"""The web UI in a real browser (Debian's Chromium through Playwright): sign in with a token,
the overview, the production model, comparing runs, the drift heatmap, a rollback as an
approver and the same refused to a viewer. A screenshot of every page lands in
test-artifacts/ui/."""

from __future__ import annotations

import re
from typing import Any

from tests.ui._fill import FEATURES, MODEL
from tests.ui.conftest import Site, charts_ready, login, shot

PAGES_WITH_CHARTS = 1


def _holder(site: Site, alias: str = "production") -> int:
    return site.store.get_model(MODEL).aliases[alias]


def _last_event_id(site: Site) -> int:
    return site.store.list_audit_events()[-1].id


def test_login_then_overview(page: Any, site: Site) -> None:
    page.goto(site.url + "/")
    assert "/login" in page.url  # no cookie: the UI sends you to sign in
    shot(page, "01-login")
    page.fill("#token", "ll_not-a-real-token")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text().startswith(("unknown", "invalid", "the"))
    page.fill("#token", site.token("alice", "approver"))
    page.click("button[type=submit]")
    page.wait_for_url(site.url + "/")
    cookie = next(c for c in page.context.cookies() if c["name"] == "loopline_token")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.locator(".who").inner_text().startswith("alice")
    row = page.locator("table.grid tbody tr", has_text=MODEL)
    assert f"v{site.filled.production}" in row.inner_text()
    assert "canary in progress" in row.inner_text()
    assert "critical" in row.inner_text()  # the open drift alert
    assert page.locator(".tile").count() == 4  # the four DORA keys
    shot(page, "02-overview")
    assert not page.js_errors


def test_drill_into_the_production_model(page: Any, site: Site) -> None:
    login(page, site, "alice", "approver")
    page.click(f"table.grid a:text-is('{MODEL}')")
    page.wait_for_url(f"**/models/{MODEL}")
    assert page.locator("h1").inner_text() == MODEL
    card = page.locator("dl.card").inner_text()
    assert "growth-ml" in card and "#growth-oncall" in card
    lineage = page.locator("svg.graph")
    assert lineage.locator("a[aria-label^='run:']").count() == 1  # data → run → version → …
    assert lineage.locator("a[aria-label^='deployment: deployment #1']").count() == 1
    gates = page.locator("#versions").inner_text()
    assert "production passed" in gates and "production failed" in gates
    assert page.locator("ol.timeline li").count() >= 5
    charts_ready(page)
    shot(page, "03-model")
    page.click("a:text-is('Deployment')")
    page.wait_for_url(f"**/models/{MODEL}/deployment")
    assert "25% of traffic on the challenger" in page.locator("main").inner_text()
    assert page.locator("#traffic").count() == 1
    charts_ready(page, 2)
    shot(page, "04-deployment")


def test_compare_two_runs(page: Any, site: Site) -> None:
    login(page, site, "alice", "approver", "/runs?experiment=churn&tag=team%3Dgrowth")
    boxes = page.locator("#runs input[name=run]")
    assert page.locator("#compare-btn").is_disabled()
    boxes.nth(0).check()
    boxes.nth(1).check()
    assert page.locator("#compare-count").inner_text() == "2 selected"
    shot(page, "05-runs")
    page.click("#compare-btn")
    page.wait_for_url("**/runs/compare?**")
    assert page.locator("h1").inner_text() == "Compare 2 runs"
    diff = page.locator("#params-diff")
    assert diff.locator("tr.differs").count() >= 1  # C differs between neighbouring runs
    page.check("#only-diff")
    assert diff.locator("tr.same").first.is_hidden()
    assert charts_ready(page, 3) >= 3  # auc, f1, loss over steps
    shot(page, "06-compare")
    assert not page.js_errors


def test_drift_heatmap(page: Any, site: Site) -> None:
    login(page, site, "alice", "approver", "/monitoring")
    page.click(f"a:text-is('models:/{MODEL}@production')")
    page.wait_for_url(f"**/monitoring/{site.filled.monitor_id}")
    charts_ready(page, 3)
    cells = page.locator("#heatmap g.mark-rect path")
    assert cells.count() == len(FEATURES) * 7  # feature x window
    table = page.locator("#heatmap-table")
    assert table.locator("td.cell.critical").count() >= 2  # the charges drifted lately
    assert page.locator(".hist").count() == len(FEATURES)
    assert "Correlated change" in page.locator("article.alert").first.inner_text()
    shot(page, "07-monitoring")
    page.click("a:text-is('Pipelines')")
    assert page.locator(".diagram svg").count() == 1
    shot(page, "08-pipelines")
    page.click("a:text-is('Audit')")
    assert "Hash chain verified" in page.locator("#verify").inner_text()
    page.fill("input[name=q]", "rollback")
    page.press("input[name=q]", "Enter")
    page.wait_for_url("**/audit?q=rollback")
    assert page.locator("#audit tbody tr").count() >= 2
    shot(page, "09-audit")


def test_rollback_as_approver(page: Any, site: Site) -> None:
    site.token("carol", "approver")  # (making a token is an audit event too)
    before, last = _holder(site), _last_event_id(site)
    login(page, site, "carol", "approver", f"/models/{MODEL}")
    page.on("dialog", lambda d: d.accept())
    page.click("button:text('Roll back @production')")
    page.wait_for_url(re.compile(r".*moved=\d+.*"))
    after = _holder(site)
    assert after != before
    notice = page.locator(".flash.good").inner_text()
    assert f"v{before} → v{after}" in notice and "carol" in notice
    events = site.store.list_audit_events(after_id=last)
    assert [(e.action, e.actor) for e in events] == [("rollback", "carol")]
    shot(page, "10-rolled-back")
    # and forward again, from the timeline's restore button
    page.click(f"#history button:text('Restore v{before}')")
    page.wait_for_url(re.compile(r".*moved=\d+.*"))
    assert _holder(site) == before


def test_rollback_refused_as_viewer(page: Any, site: Site) -> None:
    site.token("victor", "viewer")
    before, last = _holder(site), _last_event_id(site)
    login(page, site, "victor", "viewer", f"/models/{MODEL}")
    assert page.locator("#history button").count() == 0  # no button for a viewer
    assert "needs the role" in page.locator("#rollback-note").inner_text()
    # Post the form anyway (as a stale page or a hand-made request would): refused.
    page.evaluate(
        """(name) => {
        const f = document.createElement('form');
        f.method = 'post';
        f.action = '/models/' + name + '/aliases/production/rollback';
        const t = document.createElement('input');
        t.name = 'csrf';
        t.value = document.querySelector('meta[name=csrf-token]').content;
        f.appendChild(t);
        document.body.appendChild(f);
        f.submit();
    }""",
        MODEL,
    )
    page.wait_for_url("**/rollback")
    assert page.locator("h1").inner_text() == "403 Not allowed"
    assert "victor (viewer) may not rollback" in page.locator(".message").inner_text()
    shot(page, "11-refused")
    assert _holder(site) == before
    assert site.store.list_audit_events(after_id=last) == []


def test_keyboard_and_narrow_window(page: Any, site: Site) -> None:
    login(page, site, "alice", "approver", f"/models/{MODEL}")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")  # the first link inside the content
    focused = page.evaluate(
        "[document.activeElement.tagName, getComputedStyle(document.activeElement).outlineStyle]"
    )
    assert focused[0] == "A" and focused[1] != "none"  # visible focus ring
    for width, name in ((390, "narrow"), (1280, "wide")):
        page.set_viewport_size({"width": width, "height": 800})
        for path in ("/", f"/models/{MODEL}", "/runs"):
            page.goto(site.url + path)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, f"{path} scrolls sideways at {width}px"
        shot(page, f"12-runs-{name}")
