"""`loopline models show` shows a page of the newest versions and says when it cut some
(issue 18: its cost follows the page, not the model's history)."""

from __future__ import annotations

import json

import pytest

from loopline.store import open_metadata_store
from tests.conftest import run_cli
from tests.registry.test_version_paging import register


@pytest.fixture
def churn_55() -> None:
    register(open_metadata_store(), 55)


def shown_versions(out: str) -> set[str]:
    return {w for w in out.split() if w.startswith("v") and w[1:].isdigit()}


@pytest.mark.usefixtures("churn_55")
def test_show_gives_the_newest_page_and_says_how_to_see_the_rest() -> None:
    shown = run_cli("models", "show", "churn")
    assert shown.returncode == 0, shown.stderr
    assert shown_versions(shown.stdout) == {f"v{n}" for n in range(6, 56)}
    assert "showing 50 of 55 versions; --all shows every one, --before 6 the next 50" in (
        shown.stdout
    )

    every = run_cli("models", "show", "churn", "--all")
    assert shown_versions(every.stdout) == {f"v{n}" for n in range(1, 56)}
    assert "showing" not in every.stdout

    three = run_cli("models", "show", "churn", "--limit", "3")
    assert shown_versions(three.stdout) == {"v55", "v54", "v53"}
    assert "showing 3 of 55 versions" in three.stdout

    oldest = run_cli("models", "show", "churn", "--before", "3")
    assert shown_versions(oldest.stdout) == {"v2", "v1"} and "showing" not in oldest.stdout


@pytest.mark.usefixtures("churn_55")
def test_show_json_is_the_same_page_with_the_note_on_stderr() -> None:
    shown = run_cli("models", "show", "churn", "--json", "--limit", "2")
    assert [v["version"] for v in json.loads(shown.stdout)] == [55, 54]
    assert "showing 2 of 55 versions" in shown.stderr
    every = run_cli("models", "show", "churn", "--json", "--all")
    assert [v["version"] for v in json.loads(every.stdout)] == list(range(55, 0, -1))


@pytest.mark.usefixtures("churn_55")
@pytest.mark.parametrize(
    "args", [("--all", "--limit", "3"), ("--limit", "0"), ("--limit", "1001"), ("--before", "0")]
)
def test_show_refuses_a_bad_page_in_one_line(args: tuple[str, ...]) -> None:
    p = run_cli("models", "show", "churn", *args)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert "limit" in p.stderr or "before" in p.stderr, p.stderr
