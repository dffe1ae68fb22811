"""CI/CD templates: `loopline pipelines ci --provider github|gitlab` writes a workflow derived from
the pipeline spec.

pull request: validate the contract, unit tests, a small-sample training, the gate against
production as a dry run, and a Markdown report posted on the PR/MR; merge to the default
branch: register a candidate and promote it to the first environment; tag: promote to
production behind the provider's approval (GitHub environment / GitLab manual job).

Every job talks to the team server (`LOOPLINE_URL`) with an API token (`LOOPLINE_TOKEN`)
of a dedicated CI identity, so the server's roles, two-person rule and audit identity hold
for CI as for people. The templates never carry database credentials (`LOOPLINE_DB_URL`):
whoever holds those can write the store directly, past every role.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import yaml

from loopline.errors import ConflictError, InvalidInputError
from loopline.pipelines._graph import ancestors, topological_order
from loopline.pipelines._spec import PipelineSpec
from loopline.pipelines._yaml import Dumper

PROVIDERS = {"github": ".github/workflows/loopline.yml", "gitlab": ".gitlab-ci.yml"}
REPORT = "loopline-report.md"
CI_ROLE = "ci"  # the service role of CI tokens (ops roles): trusted evaluations
CI_TOKEN_COMMAND = f"loopline tokens create --user ci --role {CI_ROLE}"
SERVER_SECRETS = ("LOOPLINE_URL", "LOOPLINE_TOKEN")


def ci_setup_note(provider: str) -> list[str]:
    """What to configure for the generated workflow, one line each (the file's header and
    what `loopline pipelines ci` prints)."""
    where = "repository secrets" if provider == "github" else "masked CI/CD variables"
    scoped = (
        "a secret of the GitHub environment of that job"
        if provider == "github"
        else "a protected variable scoped to that job's environment"
    )
    return [
        f"Set LOOPLINE_URL (the team server) and LOOPLINE_TOKEN as {where}.",
        "LOOPLINE_TOKEN is an API token of a dedicated CI identity, made by an admin on the",
        "server with:",
        f"    {CI_TOKEN_COMMAND}",
        f"(`{CI_ROLE}` is the CI service role: it trains, registers and promotes to staging,",
        "and its evaluations are the trusted evidence a protected alias's gate reads). The",
        "production release needs an approver's token: give it to the release job only, as",
        f"{scoped} (it overrides LOOPLINE_TOKEN there).",
        "Never give CI database credentials (LOOPLINE_DB_URL): they bypass the server's",
        "roles and audit identity. Without LOOPLINE_URL, pull-request jobs use a throw-away",
        "local store and release jobs stop.",
    ]


def _require_server(provider: str) -> str:
    """A shell line that stops a release job unless it can reach the team server."""
    say = "echo '::error::" if provider == "github" else "echo '"
    return (
        'test -n "$LOOPLINE_URL" && test -n "$LOOPLINE_TOKEN" || { '
        f"{say}set LOOPLINE_URL and LOOPLINE_TOKEN (see the header of this file)'; exit 1; }}"
    )


def _install(spec: PipelineSpec, root: Path) -> str:
    if spec.ci.install:
        return spec.ci.install
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            extras = tomllib.loads(pyproject.read_text())["project"]["optional-dependencies"]
        except (KeyError, tomllib.TOMLDecodeError):
            extras = {}
        return (
            "python -m pip install -e '.[dev]'" if "dev" in extras else "python -m pip install -e ."
        )
    if (root / "requirements.txt").is_file():
        return "python -m pip install loopline -r requirements.txt"
    return "python -m pip install loopline"


def commands(spec: PipelineSpec, pipeline: str) -> dict[str, list[str]]:
    """The loopline commands of each CI stage, derived from the spec's steps."""
    order = topological_order(spec)
    kinds = {n: spec.steps[n].kind for n in order}
    releasing = {n for n in order if kinds[n] in ("register", "promote")}
    pre = [n for n in order if not (ancestors(spec, [n]) & releasing)]
    sinks = [n for n in pre if not any(n in spec.steps[m].upstream for m in pre)]
    promotes = [n for n in order if kinds[n] == "promote"]
    registers = [n for n in order if kinds[n] == "register"]
    run = f"loopline pipelines run {pipeline} --trigger ci"
    params = "".join(f" --param {k}={v}" for k, v in spec.ci.pr_params.items())
    last_env = spec.steps[promotes[-1]].to if promotes else None
    validate = [n for n in order if kinds[n] == "validate"]
    out = {
        "validate": [f"{run} --to {n}{params}" for n in validate],
        "train": [f"{run}{''.join(f' --to {n}' for n in sinks)}{params}"],
        "report": [
            f"loopline reports pr {pipeline} --format markdown --output {REPORT} --fail-on-gate"
            + (f" --env {last_env}" if last_env else "")
        ],
        "main": [],
        "tag": [],
    }
    sha = '--reason "merge to the default branch"'
    envs = [str(spec.steps[p].to) for p in promotes]
    # CI job names: the environment a merge reaches, and the one a release tag reaches.
    out["envs"] = [envs[0] if len(envs) >= 2 else "candidate", envs[-1] if envs else "release"]
    if len(promotes) >= 2:
        out["main"] = [f"{run} --to {promotes[0]} {sha}"]
        out["tag"] = [f'{run} --from {promotes[-1]} --reason "release tag"']
    elif promotes:
        out["main"] = [f"{run} --to {registers[0]} {sha}"] if registers else []
        out["tag"] = [f'{run} --from {promotes[0]} --reason "release tag"']
    else:
        out["main"] = [f"{run} {sha}"]
    return out


def _github(spec: PipelineSpec, cmds: dict[str, list[str]], install: str) -> dict[str, Any]:
    setup: list[dict[str, Any]] = [
        {"uses": "actions/checkout@v4", "with": {"fetch-depth": 0}},
        {"uses": "actions/setup-python@v5", "with": {"python-version": spec.ci.python}},
        {"name": "Install", "run": install},
    ]

    def job(cond: str, steps: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return {"if": cond, "runs-on": "ubuntu-latest", **extra, "steps": setup + steps}

    pr: list[dict[str, Any]] = [
        {"name": "Validate the data contract", "run": "\n".join(cmds["validate"])}
    ]
    pr = pr if cmds["validate"] else []
    pr += [
        {"name": "Unit tests", "run": spec.ci.tests},
        {"name": "Small-sample training", "run": "\n".join(cmds["train"])},
        {"name": "Gate against production, write the report", "run": "\n".join(cmds["report"])},
        {
            "name": "Post the report on the pull request",
            "if": "always()",
            "env": {"GH_TOKEN": "${{ github.token }}"},
            "run": f"test -f {REPORT} && (gh pr comment ${{{{ github.event.pull_request.number }}}}"
            f" --body-file {REPORT} --edit-last || gh pr comment"
            f" ${{{{ github.event.pull_request.number }}}} --body-file {REPORT})",
        },
    ]
    jobs: dict[str, Any] = {"pull-request": job("github.event_name == 'pull_request'", pr)}
    check = {"name": "Check the team server token", "run": _require_server("github")}
    if cmds["main"]:
        cond = "github.event_name == 'push' && github.ref == 'refs/heads/main'"
        steps = [check, {"name": "Register and promote", "run": "\n".join(cmds["main"])}]
        # The environment's secrets (a release token) override the repository's.
        jobs[cmds["envs"][0]] = job(cond, steps, environment=cmds["envs"][0])
    if cmds["tag"]:
        cond = "github.event_name == 'push' && startsWith(github.ref, 'refs/tags/')"
        steps = [check, {"name": f"Promote to {cmds['envs'][1]}", "run": "\n".join(cmds["tag"])}]
        # Required reviewers on the GitHub environment are the approval.
        jobs[cmds["envs"][1]] = job(cond, steps, environment=cmds["envs"][1])
    return {
        "name": f"loopline {spec.name}",
        "on": {"pull_request": None, "push": {"branches": ["main"], "tags": ["v*"]}},
        "permissions": {"contents": "read", "pull-requests": "write"},
        # The team server and a CI token; the identity is the token's, never a DB login.
        "env": {name: f"${{{{ secrets.{name} }}}}" for name in SERVER_SECRETS},
        "jobs": jobs,
    }


def _gitlab(spec: PipelineSpec, cmds: dict[str, list[str]], install: str) -> dict[str, Any]:
    mr = [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    keep = {"paths": [".loopline/"], "expire_in": "1 day", "when": "always"}
    note = (
        'curl --fail --request POST --header "PRIVATE-TOKEN: $LOOPLINE_GITLAB_TOKEN" '
        f'--data-urlencode "body@{REPORT}" '
        '"$CI_API_V4_URL/projects/$CI_PROJECT_ID/merge_requests/$CI_MERGE_REQUEST_IID/notes"'
    )
    out: dict[str, Any] = {
        "stages": ["validate", "test", "train", "report", "release"],
        # LOOPLINE_URL and LOOPLINE_TOKEN come from CI/CD variables (see the header); the
        # identity is the token's, never a database login.
        "default": {"image": f"python:{spec.ci.python}", "before_script": [install]},
    }
    if cmds["validate"]:
        out["validate-contract"] = {
            "stage": "validate",
            "rules": mr,
            "script": cmds["validate"],
            "artifacts": keep,
        }
    out |= {
        "unit-tests": {"stage": "test", "rules": mr, "script": [spec.ci.tests]},
        "train-sample": {"stage": "train", "rules": mr, "script": cmds["train"], "artifacts": keep},
        "gate-report": {
            "stage": "report",
            "rules": mr,
            "script": cmds["report"],
            "after_script": [f'test -f {REPORT} && test -n "$LOOPLINE_GITLAB_TOKEN" && {note}'],
            "artifacts": {"paths": [REPORT], "when": "always", "expose_as": "loopline report"},
        },
    }
    if cmds["main"]:
        out[cmds["envs"][0]] = {
            "stage": "release",
            "rules": [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"}],
            "script": [_require_server("gitlab"), *cmds["main"]],
            "environment": {"name": cmds["envs"][0]},
        }
    if cmds["tag"]:
        # A manual job on a protected environment is GitLab's approval.
        out[cmds["envs"][1]] = {
            "stage": "release",
            "rules": [{"if": "$CI_COMMIT_TAG", "when": "manual"}],
            "allow_failure": False,
            "script": [_require_server("gitlab"), *cmds["tag"]],
            "environment": {"name": cmds["envs"][1]},
        }
    return out


def ci_workflow(spec: PipelineSpec, provider: str, pipeline: str, root: Path = Path(".")) -> str:
    """The workflow file's text for `provider`; `pipeline` is the spec's path in the repo."""
    if provider not in PROVIDERS:
        raise InvalidInputError(
            f"unknown CI provider {provider!r}", hint=f"use one of {', '.join(PROVIDERS)}"
        )
    cmds = commands(spec, pipeline)
    build = _github if provider == "github" else _gitlab
    body = yaml.dump(build(spec, cmds, _install(spec, root)), Dumper=Dumper, width=1000)
    head = f"# Generated by `loopline pipelines ci --provider {provider}` from {pipeline}.\n"
    head += "".join(f"# {line}\n" for line in ci_setup_note(provider))
    return head + body.replace("pull_request: null", "pull_request:")


def write_ci_workflow(
    spec: PipelineSpec, provider: str, pipeline: str, root: Path = Path("."), force: bool = False
) -> Path:
    path = root / PROVIDERS.get(provider, "")
    text = ci_workflow(spec, provider, pipeline, root)
    if path.exists() and not force:
        raise ConflictError(f"{path} already exists", hint="pass --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


__all__ = [
    "CI_ROLE",
    "CI_TOKEN_COMMAND",
    "PROVIDERS",
    "REPORT",
    "SERVER_SECRETS",
    "ci_setup_note",
    "ci_workflow",
    "commands",
    "write_ci_workflow",
]
