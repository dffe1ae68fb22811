"""`make demo` twice in the same clone (issue 16): the second run's pipeline steps come from
the cache, and production must end on the newest version that passed its gate — never on the
week-0 model the cache hands back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from loopline.store import open_metadata_store, reset_store_cache

DEMO = Path(__file__).resolve().parents[2] / "examples" / "churn" / "demo.py"


def run_demo() -> None:
    done = subprocess.run(
        [sys.executable, str(DEMO)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "160"},
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def production_and_newest_passed() -> tuple[int, int]:
    reset_store_cache()
    store = open_metadata_store()
    holder = store.get_version_by_alias("churn", "production")
    passed = [
        v.version
        for v in store.list_versions("churn")
        if any(
            d.alias == "production" and d.passed
            for d in store.list_gate_decisions("churn", v.version)
        )
    ]
    return holder.version, max(passed)


def test_the_demo_run_twice_never_moves_production_backwards(home: Path) -> None:
    run_demo()
    first, newest_first = production_and_newest_passed()
    assert first == newest_first
    run_demo()
    second, newest_second = production_and_newest_passed()
    assert second == newest_second
    assert second >= first, f"production went back from v{first} to v{second}"
