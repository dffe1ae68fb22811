"""One colour rule for the monitoring heatmap: a cell is coloured by its status (the drift
verdict and the column signals, `cell_status`), never by the raw drift value, in the HTML
report and in the web UI alike.

The case from the issue: `total_charges` with PSI 0.276 on a 999-row window that `judge` calls
`ok` (not significant) was red in the HTML report and green in the UI. And an all-null column
(no drift statistic, a critical column signal) must be red in both."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from loopline.config import load_settings
from loopline.monitoring import STATUS_COLOURS, STATUSES, cell_status, status_colour
from loopline.monitoring._report import render_report
from loopline.store import SqlMetadataStore, WindowResult

DAY = 86_400.0
CSS = Path(__file__).resolve().parents[2] / "src/loopline/server/ui/static/ui.css"


def _feature(value: float | None, status: str, n: int = 999) -> dict[str, Any]:
    return {
        "kind": "numeric",
        "stat": "psi",
        "psi": value,
        "value": value,
        "warn": 0.1,
        "alert": 0.2,
        "n_cur": n,
        "status": status,
    }


def _history(now: float) -> list[WindowResult]:
    start = (now // DAY) * DAY - DAY
    quiet = {"status": "ok"}
    first = {
        "features": {
            "total_charges": _feature(0.276, "ok"),  # big PSI, not significant: ok
            "tenure": _feature(0.15, "warning", 5000),
            "contract": _feature(0.01, "ok", 5000),
        },
        "signals": {"contract": {"null_rate": quiet, "all_null": quiet, "constant": quiet}},
    }
    second = {
        "features": {
            "total_charges": _feature(0.03, "ok"),
            "tenure": _feature(0.5, "critical", 5000),
            "contract": _feature(None, "insufficient", 0),  # all null: no statistic
        },
        "signals": {
            "contract": {
                "all_null": {"status": "critical"},
                "null_rate": {"status": "critical", "explained_by": "all_null"},
            }
        },
    }
    return [
        WindowResult(start, start + DAY, 999, [1], first, now),
        WindowResult(start + DAY, start + 2 * DAY, 999, [1], second, now),
    ]


EXPECTED = {
    "total_charges": ["ok", "ok"],
    "tenure": ["warning", "critical"],
    "contract": ["ok", "critical"],
}


def test_cell_status_and_colour_rule() -> None:
    assert cell_status(_feature(0.276, "ok")) == "ok"
    assert cell_status(_feature(None, "insufficient")) == "no data"
    assert cell_status(None) == "no data"
    assert cell_status(_feature(None, "insufficient"), {"all_null": {"status": "critical"}}) == (
        "critical"
    )
    assert cell_status(_feature(0.3, "warning"), {"null_rate": {"status": "ok"}}) == "warning"
    assert [status_colour(s) for s in STATUSES] == [STATUS_COLOURS[s] for s in STATUSES]
    assert status_colour("insufficient") == STATUS_COLOURS["no data"]


def test_the_html_report_colours_cells_by_their_status() -> None:
    history = _history(time.time())
    html = render_report("models:/churn@production", history, {"source": "profile"})
    cells = re.findall(
        r'<rect [^>]*fill="([^"]+)" data-feature="([^"]+)" data-window="([^"]+)" '
        r'data-status="([^"]+)"',
        html,
    )
    got: dict[str, list[str]] = {}
    for fill, feature, _window, status in cells:
        assert fill == status_colour(status), (feature, status, fill)
        got.setdefault(feature, []).append(status)
    assert got == EXPECTED
    red = STATUS_COLOURS["critical"]
    assert f'fill="{STATUS_COLOURS["ok"]}" data-feature="total_charges"' in html
    assert f'fill="{red}" data-feature="total_charges"' not in html
    assert "Column checks (latest window)" in html and "all null" in html


def test_the_ui_colours_cells_by_the_same_rule(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    from loopline.server.ui import create_ui_app

    monkeypatch.setenv("LOOPLINE_USER", "owner")
    settings = load_settings()
    store = SqlMetadataStore(settings.db_url)
    now = time.time()
    mon = store.save_monitor(
        "models:/churn@production",
        model="churn",
        window="1d",
        config={"lookback": 30},
        schedule=None,
        actor="owner",
    )
    store.record_monitor_run(mon.id, _history(now), status="ok", summary={}, actor="owner")
    try:
        client = TestClient(create_ui_app(settings), follow_redirects=False)
        page = client.get(f"/monitoring/{mon.id}")
        assert page.status_code == 200, page.text
        html = page.text
    finally:
        store.close()

    # the table behind the heatmap: class and data-status are the cell's status
    tds = re.findall(
        r'<td class="cell ([a-z-]+)" data-feature="([^"]+)" data-window="[^"]+" '
        r'data-status="([^"]+)"',
        html,
    )
    got: dict[str, list[str]] = {}
    for css_class, feature, status in tds:
        assert css_class == status.replace(" ", "-")
        got.setdefault(feature, []).append(status)
    assert got == EXPECTED

    # the heatmap chart: colour encodes `status`, its scale is the shared status → colour map
    m = re.search(r'<script type="application/json" data-for="heatmap">(.*?)</script>', html, re.S)
    assert m, "no heatmap spec"
    spec = json.loads(m[1])
    rect = spec["layer"][0]["encoding"]["color"]
    assert rect["field"] == "status"
    scale = dict(zip(rect["scale"]["domain"], rect["scale"]["range"], strict=True))
    assert scale == STATUS_COLOURS
    values = spec["data"]["values"]
    charges = [v["status"] for v in values if v["feature"] == "total_charges"]
    assert charges == ["ok", "ok"]  # green in the UI, as in the report

    # the column checks of the latest window
    assert 'id="column-checks"' in html and "all null" in html


def test_the_ui_stylesheet_uses_the_shared_colours() -> None:
    css = CSS.read_text()
    for status in STATUSES:
        cls = status.replace(" ", "-")
        m = re.search(rf"td\.cell\.{cls} \{{ background: (#[0-9a-f]{{6}});", css)
        assert m, f"no td.cell.{cls} rule"
        assert m[1] == STATUS_COLOURS[status]
