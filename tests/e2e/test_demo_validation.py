"""The demo's acceptance: a broken column stops it before training; --quarantine finishes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

DEMO = Path(__file__).resolve().parents[2] / "examples" / "churn" / "demo.py"


def demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(DEMO), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "300"},
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_broken_column_stops_before_training_then_quarantine_finishes(home: Path) -> None:
    broken = demo("--break-column", "tenure")
    assert broken.returncode == 1, broken.stderr
    lines = [ln for ln in broken.stdout.splitlines() if "stopped before training" in ln]
    assert len(lines) == 1
    assert "column 'tenure' failed rule 'dtype'" in lines[0]
    assert "training" not in broken.stdout.split("stopped before training")[0]
    assert not home.exists() or not list((home / "artifacts").rglob("*"))  # nothing trained
    assert Path("demo-output/validation.html").exists()

    kept = demo("--break-column", "tenure", "--quarantine")
    assert kept.returncode == 0, kept.stderr
    assert "70 rows quarantined" in kept.stdout
    assert "loopline runs show" in kept.stdout  # it went on to train, list and show
    bad = pd.read_parquet("demo-output/quarantine.parquet")
    assert len(bad) == 70
    assert set(bad["_reasons"]) == {"tenure.dtype"} and set(bad["tenure"]) == {"n/a"}
