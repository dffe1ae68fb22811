"""`monitors slo` and `monitors run` judge a window with one rule and one word: a window too
small to judge is `insufficient` in both (never `violated` in one and no verdict in the
other), and a small window's PSI counts only when its drift test says the shift is real."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from loopline.monitoring import SLO, MonitorConfig, run_monitor, slo_report, window_status
from loopline.monitoring._alerts import drift_findings
from loopline.store import ModelVersion, WindowResult, open_metadata_store
from tests.conftest import run_cli
from tests.monitoring.test_end_to_end import URI, frame, send

PSI_ONLY = SLO(latency_p95_ms=None, error_rate=None, max_psi=0.2)


def _window(features: dict[str, Any], **result: Any) -> WindowResult:
    return WindowResult(0.0, 3600.0, 100, [1], {"features": features, **result})


def _feature(psi: float, n: int, status: str, **verdict: Any) -> dict[str, Any]:
    return {"psi": psi, "n_cur": n, "stat": "psi", "value": psi, "status": status} | verdict


def test_a_feature_the_monitor_could_not_judge_is_insufficient_not_violated() -> None:
    w = _window({"a": _feature(0.9, 12, "insufficient", reason="12 rows in the window")})
    psi = window_status(w, PSI_ONLY)["max_psi"]
    assert psi["status"] == "insufficient", psi
    assert "12 rows in the window" in psi["reason"], psi
    assert slo_report([w], PSI_ONLY)["windows"][0]["status"] == "insufficient"


def test_a_small_window_shift_the_drift_test_calls_noise_meets_the_objective() -> None:
    noise = _feature(0.5, 200, "ok", significant=False)
    real = _feature(0.5, 200, "critical", significant=True)
    assert window_status(_window({"a": noise}), PSI_ONLY)["max_psi"]["status"] == "met"
    assert window_status(_window({"a": real}), PSI_ONLY)["max_psi"]["status"] == "violated"
    # a feature judged next to one that could not be: the judged one decides
    both = _window({"a": real, "b": _feature(3.0, 0, "insufficient", reason="no values")})
    assert window_status(both, PSI_ONLY)["max_psi"] == {
        "value": 0.5,
        "objective": 0.2,
        "status": "violated",
    }


def test_every_objective_without_enough_data_says_insufficient_and_why() -> None:
    slo = SLO(latency_p95_ms=100, error_rate=0.01, max_psi=0.2, min={"auc": 0.8})
    w = _window(
        {},
        latency={"requests": 5, "p95_ms": 900.0},
        performance={"n_labelled": 3},
    )
    objectives = window_status(w, slo)
    assert {k: o["status"] for k, o in objectives.items()} == dict.fromkeys(
        ("latency_p95_ms", "error_rate", "max_psi", "min.auc"), "insufficient"
    )
    assert "5 requests in the window, fewer than 20" in objectives["latency_p95_ms"]["reason"]
    assert "3 labelled rows" in objectives["min.auc"]["reason"], objectives["min.auc"]
    assert "--metrics-url" in objectives["error_rate"]["reason"], objectives["error_rate"]


def test_run_and_slo_agree_on_a_window_too_small_to_judge(
    production: ModelVersion, live_server: Callable[..., Any]
) -> None:
    """Found by the tryout: 12 shifted rows were `insufficient` to `monitors run` and
    `violated` to `monitors slo` (the PSI of 12 rows is far above 0.2)."""
    live = live_server()
    send(live, frame(shift=2.0, n=12))
    report = run_monitor(URI, config=MonitorConfig(window="1d"))
    latest = report.latest
    assert latest is not None
    assert {f["status"] for f in latest.result["features"].values()} == {"insufficient"}
    assert drift_findings(open_metadata_store(), report.version, report.history) == []

    shown = run_cli("monitors", "run", URI)
    assert shown.returncode == 0 and "insufficient" in shown.stdout, shown.stdout
    slo = run_cli("monitors", "slo", URI, "--json")
    assert slo.returncode == 0, slo.stderr
    last = json.loads(slo.stdout)["windows"][-1]
    assert last["objectives"]["max_psi"]["status"] == "insufficient", last
    assert last["status"] == "insufficient" and "violated" not in slo.stdout, last
    table = run_cli("monitors", "slo", URI)
    assert "violated" not in table.stdout and "insufficient" in table.stdout, table.stdout
    assert "max_psi: insufficient: no feature could be judged (a: 12 rows in the window, " in (
        table.stdout
    ), table.stdout
