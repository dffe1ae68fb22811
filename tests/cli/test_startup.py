"""`loopline` starts without the heavy libraries: checked from `python -X importtime`, which
lists every module a real `loopline` process imported (timings go to
benchmarks/scale/cli_latency.py, not here)."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

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
# What Typer and Rich would import but no Loopline command needs: Pydantic converts option
# values (cli/_coerce.py does it for Loopline's types), markdown-it, Pygments and attrs come
# with Rich's Markdown and traceback renderers (cli/_help_render.py leaves them out).
TYPER_EXTRAS = {"pydantic", "pydantic_core", "markdown_it", "pygments", "attr"}
# A SQLite store never needs the PostgreSQL dialect (see store/sql/_engine.py, partial indexes).
POSTGRES = "sqlalchemy.dialects.postgresql"


def imported(*args: str) -> set[str]:
    """Top-level packages a `loopline *args` process imported (it must succeed)."""
    return {name.split(".")[0] for name in modules(*args)}


def modules(*args: str) -> set[str]:
    """Every module a `loopline *args` process imported (it must succeed)."""
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
            names.add(line.rsplit("|", 1)[1].strip())
    assert "loopline" in names  # the output was parsed
    return names


HEAVY_FOR_HELP = MODEL_LIBS | SERVERS | STORE | TYPER_EXTRAS
# Lookups and an ungated promotion read no YAML (a gate policy is stored as JSON; PyYAML is
# for a --policy file) and no fsspec (a local artifact folder is read with plain file calls).
NO_FILES = {"yaml", "fsspec"}


def test_root_help_imports_no_subcommand_and_nothing_heavy() -> None:
    names = imported("--help")
    assert names.isdisjoint(HEAVY_FOR_HELP), names & HEAVY_FOR_HELP


@pytest.mark.parametrize("noun", list(_Commands.subcommands))
def test_every_subcommand_help_imports_nothing_heavy(noun: str) -> None:
    names = imported(noun, "--help")
    assert names.isdisjoint(HEAVY_FOR_HELP), names & HEAVY_FOR_HELP


def test_a_command_help_imports_nothing_heavy() -> None:
    names = imported("runs", "list", "--help")
    assert names.isdisjoint(HEAVY_FOR_HELP), names & HEAVY_FOR_HELP


def test_store_lookups_import_no_model_library(
    train_version: Callable[..., ModelVersion],
) -> None:
    heavy = MODEL_LIBS | SERVERS | TYPER_EXTRAS
    assert imported("runs", "list").isdisjoint(heavy)  # before any run
    train_version()
    for args in (
        ("runs", "list"),
        ("runs", "list", "--limit", "5", "--offset", "1", "--tag", "a=b"),
        ("models", "list"),
        ("models", "show", "churn"),
        ("models", "lineage", "models:/churn/1"),
        ("models", "history", "churn"),
        ("audit", "verify"),
    ):
        names = modules(*args)
        tops = {name.split(".")[0] for name in names}
        assert tops.isdisjoint(heavy | NO_FILES), (args, tops & (heavy | NO_FILES))
        assert POSTGRES not in names, args
    # With no run running, nothing is judged alive or dead: the tracking package stays out.
    assert "loopline.tracking" not in modules("runs", "list")


def test_promote_without_policy_imports_no_scikit_learn(
    train_version: Callable[..., ModelVersion],
) -> None:
    train_version()
    names = modules("models", "promote", "churn", "1", "staging")
    tops = {name.split(".")[0] for name in names}
    assert tops.isdisjoint({"sklearn", "scipy", "skops", *SERVERS, *TYPER_EXTRAS}), tops
    assert POSTGRES not in names


def test_promote_without_policy_reads_no_yaml_and_no_fsspec(
    train_version: Callable[..., ModelVersion], tmp_path: Path
) -> None:
    """The candidate's files are verified (read) from the local artifact folder."""
    train_version()
    names = imported("models", "promote", "churn", "1", "staging")
    assert names.isdisjoint(NO_FILES), names & NO_FILES
    policy = tmp_path / "gate.yaml"
    policy.write_text("rules: []\n")
    names = imported("models", "promote", "churn", "1", "qa", "--policy", str(policy))
    assert "yaml" in names  # a policy file is read, with PyYAML


def test_promote_without_policy_imports_no_pandas(
    train_version: Callable[..., ModelVersion],
) -> None:
    train_version()
    names = imported("models", "promote", "churn", "1", "staging")
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


def test_help_stand_ins_still_build_rich_markdown_and_tracebacks() -> None:
    """cli/_help_render.py loads Typer's renderer without rich.markdown and rich.traceback;
    its stand-ins build the real objects, and a later import gets the real modules."""
    script = """
import sys
from loopline.cli import _help_render
_help_render.load()
assert "rich.markdown" not in sys.modules and "rich.traceback" not in sys.modules
import rich.markdown, rich.traceback, typer.rich_utils as ru
shown = ru._make_rich_text(text="**bold**", style="", markup_mode="markdown")
assert isinstance(shown, rich.markdown.Markdown), shown
try:
    1 / 0
except ZeroDivisionError as exc:
    tb = ru.Traceback.from_exception(type(exc), exc, exc.__traceback__)
assert isinstance(tb, rich.traceback.Traceback), tb
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr


def test_partial_indexes_get_their_postgresql_predicate_with_a_postgresql_engine() -> None:
    from sqlalchemy.schema import CreateIndex

    from loopline.store.sql._engine import create_engine
    from loopline.store.sql._schema import metadata

    indexes = [i for t in metadata.tables.values() for i in t.indexes]
    partial = [i for i in indexes if i.dialect_options["sqlite"]["where"] is not None]
    assert {i.name for i in partial} == {
        "uq_alerts_open_model_rule",
        "uq_retrain_requests_pending_model",
    }
    engine = create_engine("postgresql+psycopg://loopline@127.0.0.1:1/none")  # never connects
    try:
        for index in partial:
            ddl = str(CreateIndex(index).compile(dialect=engine.dialect))
            assert ddl.endswith(f"WHERE {index.dialect_options['sqlite']['where']}"), ddl
    finally:
        engine.dispose()


def test_garbage_collection_is_back_on_when_the_command_runs() -> None:
    """cli/_startup.py: off while the process starts, on (start-up objects frozen) in the
    command itself, so a long-running command collects as usual."""
    script = """
import functools, gc, sys
import loopline.cli as cli

shown = cli.version

@functools.wraps(shown)
def version(*args, **kwargs):
    print("gc", gc.isenabled(), gc.get_freeze_count() > 0)

cli.version = version  # Lazy loads "loopline.cli:version" by name, so it runs this one
sys.argv = ["loopline", "version"]
cli.main()
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "gc True True"


def test_a_command_closes_the_store_at_exit(home: Path) -> None:
    """The exit hook closes the stores (everything else is frozen, never finalized): SQLite
    checkpoints and removes its write-ahead log, as when the last connection closes."""
    if os.environ.get("LOOPLINE_URL") or os.environ.get("LOOPLINE_DB_URL"):
        pytest.skip("a local SQLite store only")
    assert run_cli("models", "promote", "churn", "1", "x").returncode == 2  # no model
    assert (home / "loopline.db").exists()  # the command created the store
    assert not (home / "loopline.db-wal").exists()
    assert run_cli("runs", "list").returncode == 0
    assert sorted(p.name for p in home.iterdir() if p.name.startswith("loopline.db")) == [
        "loopline.db"
    ]
