"""CI templates are valid for their provider (checked against the providers' published JSON
schemas, vendored by check-jsonschema: no network) and run the right loopline commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from loopline.errors import ConflictError, InvalidInputError
from loopline.pipelines import ci_workflow, load_pipeline, write_ci_workflow
from loopline.pipelines._yaml import Loader
from tests.pipelines.cli import invoke

CHURN = Path(__file__).resolve().parents[2] / "examples" / "churn"
SCHEMAS = {"github": "vendor.github-workflows", "gitlab": "vendor.gitlab-ci"}


def schema_check(path: Path, provider: str) -> subprocess.CompletedProcess[str]:
    pytest.importorskip(
        "check_jsonschema", reason="needs check-jsonschema (the dev extra) for provider schemas"
    )
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            SCHEMAS[provider],
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def parsed(text: str) -> dict[str, object]:
    loader = Loader(text)  # YAML 1.2, as GitHub and GitLab read it: `on` stays a string
    try:
        data = loader.get_single_data()
    finally:
        loader.dispose()
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("provider", ["github", "gitlab"])
def test_generated_workflows_validate_against_the_provider_schema(
    provider: str, tmp_path: Path
) -> None:
    spec = load_pipeline(CHURN)
    path = write_ci_workflow(spec, provider, "examples/churn/loopline.yaml", tmp_path)
    checked = schema_check(path, provider)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # The check is real: a job missing what the schema requires is refused.
    data = parsed(path.read_text())
    if provider == "github":
        del data["jobs"]["pull-request"]["runs-on"]  # type: ignore[index]
    else:
        data["unit-tests"]["script"] = 42  # type: ignore[index]
    broken = tmp_path / f"broken-{provider}.yml"
    broken.write_text(yaml.safe_dump(data))
    assert schema_check(broken, provider).returncode != 0


def test_github_workflow_runs_the_loop_on_pr_merge_and_tag() -> None:
    text = ci_workflow(load_pipeline(CHURN), "github", "examples/churn/loopline.yaml")
    data = parsed(text)
    assert set(data["on"]) == {"pull_request", "push"}  # type: ignore[arg-type]
    jobs = data["jobs"]
    assert isinstance(jobs, dict) and list(jobs) == ["pull-request", "staging", "production"]
    pr = "\n".join(str(s.get("run", "")) for s in jobs["pull-request"]["steps"])
    run = "loopline pipelines run examples/churn/loopline.yaml --trigger ci"
    assert f"{run} --to validate --param rows=1000" in pr  # contract validation
    assert "python -m pytest -q" in pr  # unit tests
    assert f"{run} --to evaluate --param rows=1000" in pr  # small-sample training
    assert "loopline reports pr examples/churn/loopline.yaml --format markdown" in pr
    assert "--fail-on-gate --env production" in pr and "gh pr comment" in pr
    assert f"{run} --to staging" in jobs["staging"]["steps"][-1]["run"]
    assert jobs["production"]["environment"] == "production"  # reviewers approve the release
    assert f"{run} --from production" in jobs["production"]["steps"][-1]["run"]
    assert "&id" not in text and "\non:\n" in text  # readable: no anchors, `on:` unquoted


def test_gitlab_pipeline_gates_releases_behind_a_manual_job() -> None:
    data = parsed(ci_workflow(load_pipeline(CHURN), "gitlab", "examples/churn/loopline.yaml"))
    assert data["stages"] == ["validate", "test", "train", "report", "release"]
    prod = data["production"]
    assert isinstance(prod, dict) and prod["rules"] == [{"if": "$CI_COMMIT_TAG", "when": "manual"}]
    assert prod["environment"] == {"name": "production"}
    assert "merge_requests/$CI_MERGE_REQUEST_IID/notes" in str(data["gate-report"])


def test_init_refuses_to_overwrite_and_unknown_providers(tmp_path: Path) -> None:
    spec = load_pipeline(CHURN)
    write_ci_workflow(spec, "gitlab", "loopline.yaml", tmp_path)
    with pytest.raises(ConflictError, match="already exists"):
        write_ci_workflow(spec, "gitlab", "loopline.yaml", tmp_path)
    write_ci_workflow(spec, "gitlab", "loopline.yaml", tmp_path, force=True)
    with pytest.raises(InvalidInputError, match="unknown CI provider 'jenkins'"):
        ci_workflow(spec, "jenkins", "loopline.yaml")


def test_ci_init_command_writes_the_file_relative_to_the_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "ml").mkdir(parents=True)
    (repo / "ml" / "loopline.yaml").write_text((CHURN / "loopline.yaml").read_text())
    (repo / "ml" / "contract.yaml").write_text((CHURN / "contract.yaml").read_text())
    result = invoke(
        "pipelines", "ci", "--provider", "github", str(repo / "ml"), "--root", str(repo)
    )
    assert result.exit_code == 0, result.output
    text = (repo / ".github" / "workflows" / "loopline.yml").read_text()
    assert "loopline pipelines run ml/loopline.yaml --trigger ci" in text
    assert "python -m pip install loopline" in text  # no pyproject.toml: install from PyPI
    again = invoke("pipelines", "ci", "--provider", "github", str(repo / "ml"), "--root", str(repo))
    assert again.exit_code == 2 and "already exists — pass --force" in again.output
