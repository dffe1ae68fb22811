"""The data, prompts and traces pages (issue 20): data validation results per dataset
version, prompts with their versions and evaluations, LLM traces with cost, latency, tokens
and feedback."""

from __future__ import annotations

import html
import re
from typing import Any

from tests.ui._fill_more import DATASET, PROMPT
from tests.ui.conftest import Site, http, login


def _section(text: str, start: str, end: str = "</table>") -> str:
    part = text[text.index(start) :]
    return part[: part.index(end)]


def test_navigation_names_every_page(site: Site) -> None:
    with http(site) as c:
        nav = _section(c.get("/").text, '<nav aria-label="Main">', "</nav>")
    labels = re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav)
    assert [href for href, _ in labels] == [
        "/",
        "/runs",
        "/data",
        "/approvals",
        "/monitoring",
        "/pipelines",
        "/prompts",
        "/traces",
        "/audit",
    ]


def test_data_page_shows_each_versions_validation(site: Site) -> None:
    versions = site.store.list_datasets(DATASET)
    assert len(versions) == 2  # the third batch failed an error rule: not a version
    with http(site) as c:
        text = c.get(f"/data?name={DATASET}").text
    table = _section(text, 'id="datasets"')
    rows = {
        fp: table[table.index(f'data-fingerprint="{fp}"') :]
        for fp in (v.fingerprint for v in versions)
    }
    newest, oldest = (rows[v.fingerprint].split("</tr>")[0] for v in versions)
    assert '<span class="badge warned">warned</span>' in newest
    assert "monthly_charges.range" in newest and "(9 rows)" in newest
    assert '<span class="badge passed">passed</span>' in oldest and "monthly_charges" not in oldest
    assert "contract churn-feed" in newest
    rejected = _section(text, 'id="rejected"', "</ul>\n</section>")
    assert "ingest week 2" in rejected and "tenure.range" in rejected and "(4 rows)" in rejected
    with http(site) as c:
        everything = c.get("/data").text
    assert "not validated" in everything  # churn-train: recorded without a contract


def test_prompts_page_lists_versions_and_evaluations(site: Site) -> None:
    with http(site) as c:
        text = c.get("/prompts").text
    table = _section(text, f'data-prompt="{PROMPT}"')
    rows = {int(v): row for v, row in re.findall(r'data-version="(\d)">(.*?)</tr>', table, re.S)}
    assert sorted(rows) == [1, 2, 3]
    holds = '<span class="alias">@production</span>'
    assert holds in rows[2] and holds not in rows[1] + rows[3]
    assert ">90%<" in rows[2] and ">78%<" in rows[1]  # pass rate
    assert "$0.0008" in rows[2] and "1,200" in rows[2]  # cost per case, p95 latency
    assert "llama-3-8b-instruct" in rows[1] and "<code>customer</code>" in rows[1]
    assert "@production passed" in rows[3]


def test_traces_page_totals_and_filters(page: Any, site: Site) -> None:
    with http(site) as c:
        text = html.unescape(c.get(f"/traces?prompt={PROMPT}").text)
    tiles = _section(text, 'id="trace-tiles"', "</ul>")
    assert re.search(r'<p class="big">40</p>', tiles)
    assert "7.5% errors · 2.5% blocked" in tiles  # 3 and 1 of 40
    assert "thumbs up among rated; 35% of requests rated" in tiles
    by_version = _section(text, 'id="trace-versions"')
    assert f"{PROMPT} v2" in by_version and f"{PROMPT} v3" in by_version
    requests = _section(text, 'id="traces"')
    assert requests.count("<tr data-request=") == 40
    assert "thumbs down" in requests and "wrong-policy" in requests
    assert "quoted the old refund window" in requests
    assert "1 guardrail event" in requests and "provider timed out" in requests
    login(page, site, "alice", "approver", "/traces")
    page.select_option("select[name=status]", "error")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/traces?*status=error*")
    rows = page.locator("#traces tbody tr")
    assert rows.count() == 3
    assert all("error" in t for t in rows.all_inner_texts())
    assert not page.js_errors
