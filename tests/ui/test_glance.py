"""The pages read at a glance (issue 20): a fingerprint column no longer pushes the metrics
off the runs page, histograms keep their height whatever their labels, one minute of traffic
is a rate, the model card's training data is a table (not a Python repr), and the audit page
shows whole reasons and human times (never epoch seconds)."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from loopline.server.ui._views import ago, clip, when
from tests.ui._fill import MODEL
from tests.ui._fill_more import PENDING_MODEL
from tests.ui.conftest import Site, charts_ready, http, login

EPOCH = re.compile(r"\b1[6-9]\d{8}(?:\.\d+)?\b")  # seconds since 1970, 2020 to 2033
HUMAN = re.compile(r"\b20\d\d-\d\d-\d\d \d\d:\d\d UTC\b")


def test_times_read_as_utc_with_how_long_ago() -> None:
    now = 1_796_593_189.0  # 2026-12-06 21:39:49 UTC
    assert ago(now - 20, now) == "just now"
    assert ago(now - 5 * 60, now) == "5 min ago"
    assert ago(now - 3 * 3600, now) == "3 h ago"
    assert ago(now - 3 * 86400, now) == "3 d ago"
    assert ago(now + 2 * 86400, now) == "in 2 d"
    assert ago(now - 400 * 86400, now) == "13 mo ago"
    shown = str(when(now))
    assert '<time datetime="2026-12-06T21:39:49Z"' in shown
    assert ">2026-12-06 21:39 UTC</time>" in shown and 'class="ago"' in shown
    assert str(when(None)) == ""


def test_clip_keeps_the_whole_value_in_the_tooltip() -> None:
    digest = "ab" * 32
    assert str(clip(digest)) == f'<span class="clipped" title="{digest}">{digest[:10]}…</span>'
    assert str(clip("short")) == "short"
    assert "&lt;b&gt;" in str(clip("<b>" * 20))  # escaped, never markup


def test_runs_page_clips_the_fingerprint_param(site: Site) -> None:
    with http(site) as c:
        text = c.get("/runs?experiment=churn&tag=team%3Dgrowth").text
    run = site.store.get_run(site.filled.runs[0])
    feed = run.params["feed"]
    assert len(feed) == 64
    assert f'title="{feed}">{feed[:10]}…</span>' in text
    # The whole fingerprint appears only inside tooltips, never as a cell's text.
    assert text.count(feed) == text.count(f'title="{feed}"')


def test_runs_metrics_stay_on_screen_at_1280(page: Any, site: Site) -> None:
    login(page, site, "alice", "approver", "/runs?experiment=churn&tag=team%3Dgrowth")
    headers = page.locator("#runs thead th")
    assert "feed" in headers.all_inner_texts()
    last = headers.last
    assert last.inner_text() in ("auc", "f1", "loss")
    box = last.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1280, box
    assert page.evaluate("document.querySelector('.scroll[aria-label=runs]').scrollWidth") <= 1240


def test_histograms_keep_their_height_with_long_labels(page: Any, site: Site) -> None:
    login(page, site, "alice", "approver", f"/monitoring/{site.filled.monitor_id}")
    charts_ready(page, 6)
    heights = page.evaluate(
        """() => Array.from(document.querySelectorAll('.hist')).map(h => {
          const axis = h.querySelector("g[aria-label^='Y-axis'] g.role-axis-domain");
          return [h.id, axis ? axis.getBoundingClientRect().height : 0];
        })"""
    )
    by_feature = dict(heights)
    assert "feature-payment_method" in by_feature  # the one with long category labels
    for feature, height in by_feature.items():
        assert abs(height - 150) <= 2, f"{feature}: plot {height}px high, not 150"
    spec = json.loads(page.locator("#feature-payment_method script[data-for]").text_content())
    assert spec["encoding"]["x"]["axis"]["labelLimit"] > 0  # long labels cut on the axis
    assert "Bank transfer (automatic, on the first business day)" in [
        row["bin"] for row in spec["data"]["values"]
    ]  # and whole in the data the bars' tooltips show


def test_one_minute_of_traffic_is_a_rate(site: Site) -> None:
    with http(site) as c:
        text = c.get(f"/models/{PENDING_MODEL}/deployment").text
    assert "12 requests over 1 minute" in text
    assert re.search(r'id="per-minute">12 requests per minute<', text)
    row = re.search(r"<th scope=\"row\">champion v1</th>(.*?)</tr>", text, re.S)
    assert row and re.findall(r'class="num">([^<]*)<', row[1])[:2] == ["12", "12"]
    spec = re.search(r'data-for="traffic">(.*?)</script>', text, re.S)
    assert spec and json.loads(html.unescape(spec[1]))["mark"]["type"] == "bar"


def test_model_card_training_data_is_a_table(site: Site) -> None:
    with http(site) as c:
        text = c.get(f"/models/{MODEL}?version=3").text
    card = text[text.index('<dl class="card">') : text.index("</dl>\n  </div>")]
    assert "[{" not in card and "{'" not in card and "': " not in card
    training = card[card.index('class="card-training-data"') :]
    assert '<table class="grid small card-table">' in training
    assert '<th scope="col">fingerprint</th>' in training
    assert f'title="{3:064x}"' in training and "5,000" in training
    assert re.search(r"<dt>auc</dt><dd>\s*0\.85\s*</dd>", card)  # evaluation summary


def test_audit_shows_whole_reasons_and_human_times(site: Site) -> None:
    with http(site) as c:
        text = c.get("/audit").text
        # Searched: tests that change the shared site append events, which can push the
        # alert off the newest page.
        found = c.get("/audit?q=crossed").text
    main = text[text.index("<main") :]
    assert not EPOCH.search(main), EPOCH.search(main)
    assert len(HUMAN.findall(main)) >= 20
    main = found[found.index("<main") :]
    assert not EPOCH.search(main), EPOCH.search(main)
    assert "PSI on `monthly_charges` crossed 0.2 (0.9 vs training)" in html.unescape(main)
    change_at = re.search(r"<dt>context\.change\.at</dt><dd>([^<]+)</dd>", main)
    assert change_at and HUMAN.fullmatch(change_at[1].strip())


def test_audit_reasons_are_not_cut_off(page: Any, site: Site) -> None:
    login(page, site, "alice", "approver", "/audit?q=monitor")
    cell = page.locator("#audit td.reason", has_text="PSI on").first
    box = cell.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1280
    assert cell.evaluate("el => el.scrollWidth <= el.clientWidth")
    assert "(0.9 vs training)" in cell.inner_text()
