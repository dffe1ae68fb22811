"""The overview's DORA tiles on thin data (issue 20): under 10 deployments the change failure
tile shows the counts and what a rate needs, never a percentage, and draws no weekly trend;
the restore tile the same under 5 restored incidents."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

import pytest

import loopline as ll
from loopline.config import load_settings
from loopline.ops.dora import summarize
from loopline.server.ui._views._overview import dora_tiles
from loopline.store import ModelVersion, open_metadata_store
from tests.ops._trail import T0, D, Trail, demo_trail


def tiles_of(trail: Trail) -> dict[str, dict[str, object]]:
    report = summarize(trail.events, {}, {}, T0, T0 + 28 * D).as_dict()
    return {t["title"]: t for t in dora_tiles(report)}


def test_three_deployments_are_counts_with_what_a_rate_needs() -> None:
    trail = demo_trail()
    trail.add(6 * 3600, "alert.fired", "alert", "churn:slo.latency#1", reason="p95 210 ms")
    trail.add(7 * 3600, "alert.resolved", "alert", "churn:slo.latency#1")
    tiles = tiles_of(trail)
    failure = tiles["Change failure rate"]
    assert failure["value"] == "2 of 3 failed"
    assert failure["note"] == (
        "3 deployments, 1 rolled back, 1 followed by a failure alert; a rate needs at least "
        "10 deployments in the window"
    )
    assert failure["spark"] is None and failure["weeks"] == []
    restore = tiles["Time to restore"]  # the alert on v4, resolved an hour later
    assert restore["value"] == "1 restored"
    assert restore["note"] == "1 incident restored; a median needs at least 5 restored incidents"
    assert tiles["Deployment frequency"]["note"] == "3 deployments"


def test_ten_deployments_over_weeks_show_a_rate() -> None:
    trail = Trail()
    for v in range(1, 21):
        trail.promote(v * D, "churn", "production", v, prev=v - 1 or None)
    trail.rollback(20.5 * D, "churn", 20, to=19)
    failure = tiles_of(trail)["Change failure rate"]
    assert (failure["value"], failure["note"]) == ("5%", "rolled back or alerted")
    restore = tiles_of(trail)["Time to restore"]
    assert (restore["value"], restore["note"]) == ("—", "no incidents in the window")
    # Each week has under ten deployments: no weekly rate, so no trend drawn as zeros.
    assert failure["spark"] is None and failure["weeks"] == []


def test_the_overview_page_shows_the_counts(
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    train_version: Callable[..., ModelVersion],
) -> None:
    from fastapi.testclient import TestClient

    from loopline.server.ui import create_ui_app

    monkeypatch.setenv("LOOPLINE_USER", "owner")
    v1, v2 = train_version(), train_version()
    ll.promote("churn", v1.version, alias="production")
    ll.promote("churn", v2.version, alias="production")
    ll.rollback("churn", "production", reason="bad release")
    open_metadata_store()
    page = TestClient(create_ui_app(load_settings())).get("/")
    assert page.status_code == 200
    text = html.unescape(page.text)
    tile = text[text.index("<h3>Change failure rate</h3>") :].split("</li>")[0]
    assert '<p class="big">1 of 2 failed</p>' in tile and "%" not in tile
    assert "2 deployments, 1 rolled back; a rate needs at least 10 deployments" in tile
