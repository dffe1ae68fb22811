"""Read-only commands outside a project create nothing: they say where they looked (exit 0
for a listing, 2 when a specific object was asked for); writing commands still create it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REMOTE, run_cli

# A local store only: through a team server (LOOPLINE_URL) there is nothing to create.
pytestmark = pytest.mark.skipif(REMOTE, reason="the embedded store's creation; not remote")

OUTSIDE = {"LOOPLINE_HOME": ""}  # as a user with nothing set, in a folder with no project


def looked_at(folder: Path) -> str:
    return (
        f"no Loopline store at {folder / '.loopline'} (set LOOPLINE_HOME or run from your project)"
    )


@pytest.mark.parametrize(
    "command",
    [
        ("runs", "list"),
        ("models", "list"),
        ("experiments", "list"),
        ("deployments", "list", "churn"),
        ("data", "versions", "churn-feed"),
        ("reports", "dora"),
        ("monitors", "alerts"),  # found by the tryout: these five created .loopline/
        ("monitors", "retrains"),
    ],
)
def test_a_listing_outside_a_project_says_where_it_looked(command: tuple[str, ...]) -> None:
    here = Path.cwd()
    p = run_cli(*command, env=OUTSIDE)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == looked_at(here), p.stdout
    assert not (here / ".loopline").exists()


@pytest.mark.parametrize(
    "command",
    [
        ("runs", "show", "abc123"),
        ("models", "show", "churn"),
        ("models", "history", "churn"),
        ("deployments", "status", "churn"),
        ("models", "policy", "show", "churn", "production"),
        ("models", "lineage", "models:/churn@production"),
        ("monitors", "slo", "models:/churn@production"),
        ("audit", "verify"),
        ("audit", "export"),
    ],
)
def test_asking_for_one_object_outside_a_project_is_exit_2(command: tuple[str, ...]) -> None:
    here = Path.cwd()
    p = run_cli(*command, env=OUTSIDE)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert looked_at(here) in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert not (here / ".loopline").exists()


@pytest.mark.parametrize(
    "command", [("deploy", "list", "churn"), ("dora",), ("monitor", "slo", "x")]
)
def test_old_spellings_outside_a_project_create_nothing_either(command: tuple[str, ...]) -> None:
    """The read-only commands are known by their new names; the old ones reach them."""
    here = Path.cwd()
    p = run_cli(*command, env=OUTSIDE)
    assert p.returncode == (2 if "slo" in command else 0), (p.stdout, p.stderr)
    assert p.stderr.startswith("warning: `loopline ") and "is deprecated" in p.stderr
    assert looked_at(here) in p.stdout + p.stderr
    assert not (here / ".loopline").exists()


def test_a_missing_database_file_is_named(tmp_path: Path) -> None:
    db = tmp_path / "elsewhere" / "team.db"
    p = run_cli("runs", "list", env={"LOOPLINE_DB_URL": f"sqlite:///{db}"})
    assert p.returncode == 0 and f"no Loopline store at {db} " in p.stdout, p.stdout
    assert not db.parent.exists()


def test_writing_commands_still_create_the_store() -> None:
    here = Path.cwd()
    p = run_cli("db", "upgrade", env=OUTSIDE)
    assert p.returncode == 0, p.stderr
    assert (here / ".loopline" / "loopline.db").exists()
    listed = run_cli("runs", "list", env=OUTSIDE)
    assert listed.returncode == 0 and "no Loopline store" not in listed.stdout, listed.stdout
