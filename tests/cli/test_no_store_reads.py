"""The read-only commands test_no_store.py did not cover (found by trying every command in an
empty folder): outside a project they create no `.loopline/` either and say where they
looked — exit 0 for a listing, 2 when they were asked about one object."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_no_store import OUTSIDE, looked_at
from tests.conftest import REMOTE, run_cli

pytestmark = pytest.mark.skipif(REMOTE, reason="the embedded store's creation; not remote")


def test_listing_tokens_outside_a_project_says_where_it_looked() -> None:
    here = Path.cwd()
    p = run_cli("tokens", "list", env=OUTSIDE)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == looked_at(here), p.stdout
    assert not (here / ".loopline").exists()


@pytest.mark.parametrize(
    "command",
    [
        ("monitors", "report", "models:/churn@production", "--html", "report.html"),
        ("monitors", "performance", "models:/churn@production"),
        ("monitors", "skew", "models:/churn@production", "--data", "features.parquet"),
    ],
)
def test_reading_one_object_outside_a_project_is_exit_2(command: tuple[str, ...]) -> None:
    here = Path.cwd()
    p = run_cli(*command, env=OUTSIDE)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert looked_at(here) in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert not (here / ".loopline").exists()
    assert not (here / "report.html").exists()


def test_no_labels_files_says_where_it_looked() -> None:
    """The labels live in files under the Loopline home, not in the store: an empty table
    said nothing about where it had looked."""
    here = Path.cwd()
    p = run_cli("monitors", "labels", "list", env=OUTSIDE)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == f"no labels files under {here / '.loopline' / 'labels'}", p.stdout
    assert not (here / ".loopline").exists()
