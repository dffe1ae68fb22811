"""One vocabulary (docs/vocabulary.md, issue 19): command groups are plural nouns, and last
release's spellings still work for one release, hidden from the help, each printing one
deprecation line on stderr and then doing exactly what the new spelling does."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest

from loopline.cli import _Commands
from loopline.cli._deprecated import RENAMED
from loopline.store import ModelVersion, open_metadata_store
from tests.conftest import run_cli

NEW_NAMES = [
    "data", "runs", "experiments", "models", "deployments", "monitors", "pipelines",
    "reports", "prompts", "indexes", "score", "audit", "tokens", "server", "db", "version",
]  # fmt: skip
OLD_NAMES = {"deploy", "monitor", "report", "dora", "run", "scheduler", "diagram", "ci"}
OLD_NAMES |= {"llm", "serve", "ui"}

# Old spelling, new spelling: each pair gives the same exit code and stdout. The commands
# that fail do so for a reason the store or the file system gives (nothing is registered,
# no such file), so both spellings reach the command itself.
PAIRS = [
    (("deploy", "list", "churn", "--json"), ("deployments", "list", "churn", "--json")),
    (("deploy", "status", "churn"), ("deployments", "status", "churn")),
    (("deploy", "promote", "churn"), ("deployments", "complete", "churn")),
    (("deployments", "promote", "churn"), ("deployments", "complete", "churn")),
    (("monitor", "alerts", "--json"), ("monitors", "alerts", "--json")),
    (("monitor", "labels", "list", "--json"), ("monitors", "labels", "list", "--json")),
    (("report", "pr", "nowhere"), ("reports", "pr", "nowhere")),
    (("dora", "--since", "0d"), ("reports", "dora", "--since", "0d")),
    (("run", "nowhere"), ("pipelines", "run", "nowhere")),
    (("scheduler", "nowhere", "--once"), ("pipelines", "schedule", "nowhere", "--once")),
    (("diagram", "nowhere"), ("pipelines", "diagram", "nowhere")),
    (("ci", "init", "--provider", "github", "nowhere"), ("pipelines", "ci", "--provider",
     "github", "nowhere")),
    (("llm", "show", "prompts:/nope/1"), ("prompts", "show", "prompts:/nope/1")),
    (("llm", "eval", "prompts:/nope/1", "--set", "nowhere.jsonl"), ("prompts", "evaluate",
     "prompts:/nope/1", "--set", "nowhere.jsonl")),
    (("llm", "index", "build", "--help"), ("indexes", "build", "--help")),
    (("llm", "index", "eval", "--help"), ("indexes", "evaluate", "--help")),
    (("serve", "models:/nope@production"), ("models", "serve", "models:/nope@production")),
    (("ui", "--host", "0.0.0.0"), ("server", "--local", "--host", "0.0.0.0")),
]  # fmt: skip


def notice(old: tuple[str, ...], new: tuple[str, ...]) -> str:
    return (
        f"warning: `loopline {' '.join(old)}` is deprecated: use `loopline {' '.join(new)}` "
        "(the old name goes in the next release)\n"
    )


def listed(help_text: str) -> list[str]:
    """The command names in a help screen's Commands box, in order."""
    box = help_text.split("Commands")[1]
    return re.findall(r"^│ ([a-z][a-z-]*) ", box, flags=re.MULTILINE)


def test_root_help_lists_the_plural_nouns_only() -> None:
    shown = run_cli("--help")
    assert shown.returncode == 0
    assert listed(shown.stdout) == NEW_NAMES == list(_Commands.subcommands)
    assert OLD_NAMES.isdisjoint(listed(shown.stdout))


@pytest.mark.parametrize(
    ("group", "new", "old"),
    [
        ("deployments", "complete", "promote"),
        ("prompts", "evaluate", "eval"),
        ("indexes", "evaluate", "eval"),
        ("pipelines", "schedule", "scheduler"),
        ("models", "serve", None),
        ("reports", "dora", None),
    ],
)
def test_group_help_lists_the_new_verb_and_hides_the_old(
    group: str, new: str, old: str | None
) -> None:
    shown = run_cli(group, "--help")
    assert shown.returncode == 0 and shown.stderr == ""
    names = listed(shown.stdout)
    assert new in names and old not in names
    assert "index" not in names  # `llm index` is `indexes` now, not a prompts subcommand


@pytest.mark.parametrize(("old", "new"), PAIRS, ids=lambda args: " ".join(args[:2]))
def test_old_spelling_does_what_the_new_one_does_with_one_notice(
    old: tuple[str, ...], new: tuple[str, ...]
) -> None:
    now = run_cli(*new)
    before = run_cli(*old)
    assert before.returncode == now.returncode, (before.stderr, now.stderr)
    assert before.stdout == now.stdout
    renamed_from = max((k for k in RENAMED if old[: len(k)] == k), key=len)
    head = notice(renamed_from, RENAMED[renamed_from])
    assert before.stderr == head + now.stderr
    assert "deprecated" not in now.stderr


def test_every_new_spelling_the_table_names_exists() -> None:
    for old, new in RENAMED.items():
        shown = run_cli(*new, "--help")
        usage = " ".join(word for word in new if not word.startswith("-")) + " [OPTIONS]"
        assert shown.returncode == 0 and usage in shown.stdout, (old, shown.stderr)
        assert shown.stderr == ""


def test_deployments_complete_moves_the_alias_and_deploy_promote_still_does(
    train_version: Callable[..., ModelVersion],
) -> None:
    for _ in range(3):
        train_version()
    assert run_cli("models", "promote", "churn", "1", "production").returncode == 0
    for version, args in ((2, ("deployments", "complete")), (3, ("deploy", "promote"))):
        started = run_cli("deployments", "start", "churn", str(version), "--json")
        assert started.returncode == 0, started.stderr
        done = run_cli(*args, "churn", "--reason", "healthy")
        assert done.returncode == 0, done.stderr
        assert f"completed, v{version - 1} (champion) vs v{version} (challenger)" in done.stdout
        holder = open_metadata_store().get_version_by_alias("churn", "production")
        assert holder.version == version
    listed_json = json.loads(run_cli("deployments", "list", "churn", "--json").stdout)
    assert [d["status"] for d in listed_json] == ["completed", "completed"]


def test_promote_takes_the_alias_after_the_version_or_as_to(
    train_version: Callable[..., ModelVersion],
) -> None:
    train_version()
    train_version()
    assert run_cli("models", "promote", "churn", "1", "staging").returncode == 0
    assert run_cli("models", "promote", "churn", "2", "--to", "staging").returncode == 0
    aliases = open_metadata_store().get_model("churn").aliases
    assert aliases == {"staging": 2}
    both = run_cli("models", "promote", "churn", "1", "staging", "--to", "production")
    assert both.returncode == 2
    assert both.stderr.startswith(
        "error: the alias after the version is staging but --to is production"
    )
    gated = run_cli("models", "gate", "churn", "1", "qa", "--json")
    assert gated.returncode == 0 and json.loads(gated.stdout)["passed"] is True


def test_server_local_refuses_a_public_interface_without_a_login() -> None:
    refused = run_cli("server", "--local", "--host", "0.0.0.0")
    assert refused.returncode == 2
    assert "has no login, so it only listens on this machine, not 0.0.0.0" in refused.stderr
