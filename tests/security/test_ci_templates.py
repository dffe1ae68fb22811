"""CI templates (issue 15): `loopline ci init` workflows authenticate to the team server
with a CI token, never with database credentials. The docstring names the finding."""

from __future__ import annotations

from pathlib import Path

import pytest

from loopline.pipelines import ci_workflow, load_pipeline
from loopline.pipelines._yaml import Loader

CHURN = Path(__file__).resolve().parents[2] / "examples" / "churn"


def _data(text: str) -> dict[str, object]:
    loader = Loader(text)
    try:
        data = loader.get_single_data()
    finally:
        loader.dispose()
    assert isinstance(data, dict)
    return data


def _body(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith("#"))


@pytest.mark.parametrize("provider", ["github", "gitlab"])
def test_templates_use_a_server_token_not_database_credentials(provider: str) -> None:
    """Finding 6 (CI connects with DB credentials): the generated workflow set
    LOOPLINE_DB_URL / LOOPLINE_ARTIFACTS_URI from secrets, so CI wrote the store directly,
    past the server's roles, under a LOOPLINE_USER it chose itself. It now names only
    LOOPLINE_URL and LOOPLINE_TOKEN, and no job sets its own identity."""
    text = ci_workflow(load_pipeline(CHURN), provider, "examples/churn/loopline.yaml")
    body = _body(text)
    for forbidden in ("LOOPLINE_DB_URL", "LOOPLINE_ARTIFACTS_URI", "LOOPLINE_USER"):
        assert forbidden not in body, forbidden
    assert "LOOPLINE_URL" in text and "LOOPLINE_TOKEN" in text
    # The header says which token, made how, with the CI service role.
    assert "loopline tokens create --user ci --role ci" in text
    assert "Never give CI database credentials (LOOPLINE_DB_URL)" in text


def test_github_reads_url_and_token_from_secrets() -> None:
    """Finding 6: GitHub jobs get the server and token from secrets; the release jobs run
    in their environment (whose secrets hold a release token) and stop without a token."""
    data = _data(ci_workflow(load_pipeline(CHURN), "github", "examples/churn/loopline.yaml"))
    assert data["env"] == {
        "LOOPLINE_URL": "${{ secrets.LOOPLINE_URL }}",
        "LOOPLINE_TOKEN": "${{ secrets.LOOPLINE_TOKEN }}",
    }
    jobs = data["jobs"]
    assert isinstance(jobs, dict)
    for name in ("staging", "production"):
        assert jobs[name]["environment"] == name
        check = jobs[name]["steps"][-2]["run"]
        assert 'test -n "$LOOPLINE_TOKEN"' in check and "exit 1" in check


def test_gitlab_release_jobs_require_the_token() -> None:
    """Finding 6: GitLab takes LOOPLINE_URL/LOOPLINE_TOKEN from CI/CD variables; release
    jobs stop first thing when they are missing, instead of writing a throw-away store."""
    data = _data(ci_workflow(load_pipeline(CHURN), "gitlab", "examples/churn/loopline.yaml"))
    assert "variables" not in data  # no identity or database set in the file
    for name in ("staging", "production"):
        job = data[name]
        assert isinstance(job, dict)
        assert 'test -n "$LOOPLINE_TOKEN"' in job["script"][0]
