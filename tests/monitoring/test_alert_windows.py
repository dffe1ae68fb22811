"""Every alert that judges a window names that window (its length and span), not only the
feature-drift ones: output drift and labelled performance too."""

from __future__ import annotations

from loopline.monitoring import SLO, drift_findings
from loopline.monitoring._run import slo_findings
from loopline.store import ModelVersion, WindowResult, open_metadata_store

HOUR = 1_764_982_800.0  # 2025-12-06 01:00 UTC


def _window(**result: object) -> WindowResult:
    return WindowResult(HOUR, HOUR + 3600, 500, [1], dict(result))


def test_output_drift_names_the_window_it_judged(production: ModelVersion) -> None:
    output = {"stat": "psi", "value": 0.61, "status": "critical"}
    (finding,) = drift_findings(open_metadata_store(), production, [_window(output=output)])
    assert finding.rule == "output_drift", finding
    assert "in the 1h window 2025-12-06 01:00 to 02:00 UTC" in finding.message, finding.message


def test_labelled_performance_names_the_window_it_judged() -> None:
    performance = {"n_labelled": 400, "metrics": {"auc": 0.61}}
    slo = SLO(latency_p95_ms=None, error_rate=None, max_psi=None, min={"auc": 0.8})
    (finding,) = slo_findings([_window(performance=performance)], slo)
    assert finding.rule == "performance" and finding.severity == "critical", finding
    assert "auc 0.61 (bound 0.8)" in finding.message, finding.message
    assert "in the 1h window 2025-12-06 01:00 to 02:00 UTC" in finding.message, finding.message
