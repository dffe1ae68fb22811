"""The approvals page: versions waiting for a protected alias with the gate's decision beside
them; approve and promote buttons for an approver only; every POST goes through the library
and the store's protocol, which refuse what the caller's role (or the two-person rule, or the
gate) does not allow, exactly as for the CLI.

Each test that changes state registers its own model, so the session's shared site (and the
other tests' assertions about `churn` and `fraud`) never see the change."""

from __future__ import annotations

import re
import uuid
from typing import Any

from loopline.ops._roles import acting_as
from tests.ui._fill import MODEL
from tests.ui._fill_more import PENDING_MODEL, Pending, add_pending_model
from tests.ui.conftest import Site, csrf_of, http, login


def _own_model(site: Site) -> Pending:
    package = site.store.get_version(MODEL, 1).sha256  # a real package: promote verifies it
    name = f"loan-{uuid.uuid4().hex[:6]}"
    return add_pending_model(site.store, site.settings.home, name, package)


def _row(page: Any, model: str, version: int) -> Any:
    return page.locator(f"tr[id='pending-{model}-{version}-production']")


def _last_event_id(site: Site) -> int:
    with acting_as(None):
        return site.store.list_audit_events()[-1].id


def test_pending_versions_with_their_gate_decision(site: Site) -> None:
    with http(site, "viewer", "victor") as c:
        r = c.get("/approvals")
    assert r.status_code == 200
    text = r.text
    # churn: v4 waits for @production (held by v3), its gate passed, no approval needed.
    churn = text[text.index(f'data-model="{MODEL}"') :]
    assert 'data-version="4"' in churn[: churn.index("</table>")]
    # fraud: v2 and v3 wait; the policy needs an approver's approval, so both were refused.
    fraud = text[text.index(f'data-model="{PENDING_MODEL}"') :]
    fraud = fraud[: fraud.index("</table>")]
    assert re.findall(r'data-version="(\d+)"', fraud) == ["3", "2"]
    assert "approvals &gt;= 1 (approver)" in fraud and "no approvals yet" in fraud
    assert "1 approval by approver, never the author" in text
    # A viewer sees the state, and no button.
    assert "button" not in fraud and 'id="approve-note"' in text


def test_approve_then_promote_as_approver(page: Any, site: Site) -> None:
    mine = _own_model(site)
    last = _last_event_id(site)
    login(page, site, "carol", "approver", "/approvals")
    page.on("dialog", lambda d: d.accept())
    row = _row(page, mine.model, mine.waiting)
    assert "failed" in row.locator("td.decision").inner_text()
    row.locator("input[name=comment]").fill("reviewed the holdout")
    row.locator("button.approve").click()
    page.wait_for_url(re.compile(r".*approved=2.*"))
    assert page.locator("#flash").inner_text() == f"Approved {mine.model} v2."
    assert "carol" in _row(page, mine.model, mine.waiting).locator("td.approvals").inner_text()
    _row(page, mine.model, mine.waiting).locator("button.promote").click()
    page.wait_for_url(re.compile(r".*moved=\d+.*"))
    flash = page.locator("#flash").inner_text()
    assert f"@production of {mine.model} moved v1 → v2 (promote by carol)" in flash
    assert site.store.get_model(mine.model).aliases["production"] == 2
    with acting_as(None):
        events = site.store.list_audit_events(after_id=last)
    done = [(e.action, e.actor) for e in events if e.target_id.startswith(mine.model)]
    assert ("approve", "carol") in done and ("promote", "carol") in done
    assert done.index(("approve", "carol")) < done.index(("promote", "carol"))
    # v3 still waits (newer than v2); its gate fails on auc whatever the approvals.
    _row(page, mine.model, mine.failing).locator("button.promote").click()
    page.wait_for_url(re.compile(r".*decision=\d+.*"))
    refused = page.locator("#flash").inner_text()
    assert f"The gate refused {mine.model} v3 for @production" in refused
    assert "auc >= 0.8" in refused
    assert site.store.get_model(mine.model).aliases["production"] == 2
    assert not page.js_errors


def test_viewer_sees_no_buttons_and_the_store_refuses_a_post(page: Any, site: Site) -> None:
    mine = _own_model(site)
    login(page, site, "victor", "viewer", "/approvals")
    assert page.locator("button.approve, button.promote").count() == 0
    assert "needs the role" in page.locator("#approve-note").inner_text()
    last = _last_event_id(site)
    base = f"/models/{mine.model}/versions/{mine.waiting}"
    with http(site, "viewer", "victor") as c:
        token = csrf_of(c.get("/approvals").text)
        r = c.post(f"{base}/approve", data={"csrf": token, "alias": "production"})
        assert r.status_code == 403 and "victor (viewer) may not approve" in r.text
        r = c.post(f"{base}/promote", data={"csrf": token, "alias": "production"})
        assert r.status_code == 403 and "victor (viewer) may not" in r.text
    assert site.store.list_approvals(mine.model, mine.waiting) == []
    assert site.store.get_model(mine.model).aliases["production"] == 1
    with acting_as(None):
        assert site.store.list_audit_events(after_id=last) == []


def test_author_csrf_and_origin_are_refused(site: Site) -> None:
    mine = _own_model(site)
    url = f"/models/{mine.model}/versions/{mine.waiting}/approve"
    with http(site, "approver", "alice") as c:  # alice registered every version
        page = c.get("/approvals").text
        assert f'action="{url}"' not in page  # no approve button for one's own version
        token = csrf_of(page)
        r = c.post(url, data={"alias": "production"})
        assert r.status_code == 403 and "security token" in r.text
        r = c.post(url, data={"csrf": token}, headers={"origin": "https://evil.example"})
        assert r.status_code == 403 and "another site" in r.text
        r = c.post(url, data={"csrf": token, "alias": "production"})
        assert r.status_code == 409 and "alice registered" in r.text
        r = c.post(url, data={"csrf": token, "alias": "Prod uction"})
        assert r.status_code == 422 and "illegal characters" in r.text
    assert site.store.list_approvals(mine.model, mine.waiting) == []
