"""A lineage line about an alias move names the alias: `@production: promote v1 → v2 by
tester`, never `alias: promote` three times over (the demo's lineage table did that)."""

from __future__ import annotations

import importlib.util
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

import loopline as ll
from loopline.store import ModelVersion
from tests.conftest import run_cli

LOOP = Path(__file__).resolve().parents[2] / "examples" / "churn" / "loop.py"


@pytest.fixture
def moved(train_version: Callable[..., ModelVersion]) -> None:
    one, two = train_version(), train_version()
    ll.promote("churn", one.version, "staging")
    ll.promote("churn", one.version, "production")
    ll.promote("churn", two.version, "staging")
    ll.promote("churn", two.version, "production")


def test_the_cli_lineage_names_each_alias_moved(moved: None) -> None:
    p = run_cli("models", "lineage", "models:/churn@production")
    assert p.returncode == 0, p.stderr
    moves = [line.strip() for line in p.stdout.splitlines() if "⇄" in line]
    assert [m.split(" by ")[0] for m in moves] == [
        "⇄ promote @staging v1 → v2",
        "⇄ promote @production v1 → v2",
    ], moves


def test_the_demo_lineage_table_names_each_alias_moved(
    moved: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    spec = importlib.util.spec_from_file_location("churn_demo_loop", LOOP)
    assert spec is not None and spec.loader is not None
    loop = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loop)
    # the DORA report is another process: not what this test reads
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: None)
    console = Console(record=True, width=120)
    loop.summary(console, tmp_path)
    text = console.export_text()
    assert "@staging: promote" in text and "@production: promote" in text, text
    assert "alias: promote" not in text, text
