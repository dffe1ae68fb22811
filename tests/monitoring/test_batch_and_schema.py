"""Monitoring a batch-scored file instead of the capture, and the 0004 migration both ways."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from alembic import command

from loopline.monitoring import MonitorConfig, run_monitor
from loopline.store import ModelVersion, open_metadata_store
from loopline.store.sql._migrate import _alembic_config, current_revision


def test_a_batch_scored_file_is_monitored_like_the_capture(
    production: ModelVersion, tmp_path: Path
) -> None:
    rng = np.random.default_rng(7)
    scored = pd.DataFrame(
        {"a": rng.normal(size=2000), "b": rng.normal(-1.5, 1, 2000), "prediction": 1}
    )
    scored.to_parquet(tmp_path / "scored.parquet")
    report = run_monitor(
        "models:/churn@production",
        config=MonitorConfig(retrain={"enabled": False}),
        data=tmp_path / "scored.parquet",
    )
    assert len(report.history) == 1 and report.history[0].n_rows == 2000
    assert report.drifted() == {"b": "critical"}
    assert report.retrain is None  # the policy was switched off
    assert report.latest is not None and report.latest.result["features"]["a"]["status"] == "ok"


def test_migration_0004_downgrades_and_upgrades(tmp_path: Path) -> None:
    store = open_metadata_store()  # migrated to head on open
    engine = sa.create_engine(store.url)
    try:
        with engine.begin() as conn:
            command.downgrade(_alembic_config(conn), "0003")
        assert current_revision(engine) == "0003"
        assert not sa.inspect(engine).has_table("alerts")
        with engine.begin() as conn:
            command.upgrade(_alembic_config(conn), "head")
        tables = set(sa.inspect(engine).get_table_names())
        assert {"monitors", "monitor_windows", "monitor_runs", "alerts"} <= tables
        assert {"alert_deliveries", "retrain_requests"} <= tables
    finally:
        engine.dispose()


def test_alerts_name_the_latest_deployment_before_the_breach(production: ModelVersion) -> None:
    from loopline.monitoring import last_change_before

    store = open_metadata_store()
    promoted = last_change_before(store, production, time.time())
    assert promoted is not None and promoted["kind"] == "alias_move"
    deployment = store.create_deployment(
        "churn",
        alias="production",
        strategy="canary",
        champion_version=production.version,
        challenger_version=None,
        params={},
        challenger_percent=0.0,
        actor="ops",
    )
    change = last_change_before(store, production, time.time())
    assert change is not None and change["kind"] == "deployment"
    assert change["text"] == f"deployment #{deployment.id} (canary) of churn v1"
    # a breach that began before the deployment is not blamed on it
    earlier = last_change_before(store, production, deployment.created_at - 1e-3)
    assert earlier is not None and earlier["kind"] != "deployment"
