"""`loopline` starts without the heavy libraries: checked from `python -X importtime`, which
lists every module a real `loopline` process imported (timings go to
benchmarks/scale/cli_latency.py, not here)."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from collections.abc import Callable

import pytest

from loopline.cli import _Commands
from loopline.store import ModelVersion
from tests.conftest import run_cli

# Model and data libraries: no CLI lookup or help needs them (pandas neither: the CLI prints
# rich tables, never frames; only commands that read data files or load models import it).
MODEL_LIBS = {
    "sklearn",
    "scipy",
    "pandas",
    "pyarrow",
    "numpy",
    "narwhals",
    "joblib",
    "skops",
    "lightgbm",
    "xgboost",
    "torch",
    "ray",
}
SERVERS = {"starlette", "uvicorn", "fastapi", "jinja2", "prometheus_client"}
# Help never opens the store: no SQLAlchemy, no migrations, no artifact filesystem.
STORE = {"sqlalchemy", "alembic", "fsspec", "yaml", "httpx"}


def imported(*args: str) -> set[str]:
    """Top-level packages a `loopline *args` process imported (it must succeed)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "loopline", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    names = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    assert "loopline" in names  # the output was parsed
    return names


def test_root_help_imports_no_subcommand_and_nothing_heavy() -> None:
    names = imported("--help")
    assert names.isdisjoint(MODEL_LIBS | SERVERS | STORE), names & (MODEL_LIBS | SERVERS | STORE)


@pytest.mark.parametrize("noun", list(_Commands.subcommands))
def test_every_subcommand_help_imports_nothing_heavy(noun: str) -> None:
    names = imported(noun, "--help")
    assert names.isdisjoint(MODEL_LIBS | SERVERS | STORE), names & (MODEL_LIBS | SERVERS | STORE)


def test_store_lookups_import_no_model_library(
    train_version: Callable[..., ModelVersion],
) -> None:
    assert imported("runs", "list").isdisjoint(MODEL_LIBS | SERVERS)  # before any run
    train_version()
    for args in (
        ("runs", "list"),
        ("models", "list"),
        ("models", "show", "churn"),
        ("models", "lineage", "models:/churn/1"),
        ("models", "history", "churn"),
        ("audit", "verify"),
    ):
        names = imported(*args)
        assert names.isdisjoint(MODEL_LIBS | SERVERS), (args, names & (MODEL_LIBS | SERVERS))


def test_promote_without_policy_imports_no_scikit_learn(
    train_version: Callable[..., ModelVersion],
) -> None:
    train_version()
    names = imported("models", "promote", "churn", "1", "--to", "staging")
    assert names.isdisjoint({"sklearn", "scipy", "skops", *SERVERS}), names


def test_promote_without_policy_imports_no_pandas(
    train_version: Callable[..., ModelVersion],
) -> None:
    train_version()
    names = imported("models", "promote", "churn", "1", "--to", "staging")
    assert names.isdisjoint({"pandas", "numpy", "pyarrow"}), names


def test_lazy_help_lines_match_the_commands_and_every_target_loads() -> None:
    for name, spec in _Commands.subcommands.items():
        command = spec.load(name)
        assert command.name == name
        first = inspect.cleandoc(command.help or "").split("\n\n")[0].replace("\n", " ")
        assert first == spec.help, f"update the help line of {name!r} in loopline/cli/__init__.py"


def test_root_help_lists_every_command_and_typos_get_suggestions() -> None:
    shown = run_cli("--help")
    assert shown.returncode == 0
    for name, spec in _Commands.subcommands.items():
        assert name in shown.stdout and spec.help.split()[0] in shown.stdout
    typo = run_cli("modles", "list")
    assert typo.returncode == 2 and "Did you mean 'models'?" in typo.stderr
    assert run_cli("experiments", "list").returncode == 0  # a one-command group stays a group
    assert "--install-completion" not in run_cli("models", "--help").stdout
