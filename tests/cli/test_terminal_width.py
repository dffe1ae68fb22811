"""Every table-producing command fits an 80- and a 120-column terminal with its key columns
whole: ids, names, versions, aliases, status and the metric a listing is sorted by (issue 20).
Free text (reasons, messages, long values) wraps; columns that do not fit are named below the
table and `--wide` shows them. tests/cli/test_terminal_width_ops.py does the same for
deployments, monitors, reports, tokens and prompts; `test_every_table_is_rendered_here`
keeps the two lists complete.

How a command is rendered and checked: tests/cli/_terminal.py.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import typer.main
from typer.core import TyperGroup
from typer.testing import CliRunner

import loopline as ll
import loopline.cli
from loopline.cli import app
from loopline.cli._lazy import reflow
from loopline.data import infer_contract
from loopline.gates import promote
from loopline.registry import rollback
from loopline.store import ModelVersion, open_metadata_store
from tests.cli._terminal import Drawn, assert_whole, render, words

WIDTHS = (80, 120)
REASON = (
    "incident INC-4711: the March feature backfill double-counted monthly charges for "
    "customers on annual contracts; rolling back until the pipeline is rerun"
)
# Long metric names push the table past 80 columns; the sort key sorts last by name.
METRICS = ("accuracy", "calibration_error", "f1", "log_loss", "precision", "recall")
LONG_PATH = "/data/warehouse/exports/customers/2024-03-01/part-0000-of-0012.snappy.parquet"

# Every function in src/loopline/cli that draws a table, and the test that renders it.
RENDERED = {
    "__init__:experiments_list": "test_experiments_list",
    "_runs:list_runs": "test_runs_list_keeps_the_sorted_metric_whole",
    "_runs:show": "test_runs_show_and_compare",
    "_runs:_lineage_table": "test_runs_show_and_compare",
    "_runs:_files_tables": "test_runs_show_and_compare",
    "_runs:compare": "test_runs_show_and_compare",
    "_models:list_models": "test_models_tables",
    "_models:show": "test_models_tables",
    "_models:history": "test_models_tables",
    "_models:card": "test_models_tables",
    "_models:evaluate": "test_models_evaluate_and_evaluations",
    "_models:evaluations": "test_models_evaluate_and_evaluations",
    "_data:_rules_table": "test_data_validate_lists_failures_first_and_counts_passes",
    "_data:profile_cmd": "test_data_validate_lists_failures_first_and_counts_passes",
    "_data:versions_cmd": "test_data_versions",
    "_gates:_decision_table": "test_terminal_width_ops.py::test_models_gate",
    "_deploy:list_": "test_terminal_width_ops.py::test_deployments_list",
    "_monitor:_verdicts": "test_terminal_width_ops.py::test_monitors",
    "_labels:labels_list": "test_terminal_width_ops.py::test_monitors",
    "_monitor:alerts": "test_terminal_width_ops.py::test_monitors",
    "_monitor:retrains": "test_terminal_width_ops.py::test_monitors",
    "_monitor:performance": "test_terminal_width_ops.py::test_monitors",
    "_monitor:slo": "test_terminal_width_ops.py::test_monitors",
    "_monitor:skew": "test_terminal_width_ops.py::test_monitors",
    "_dora:dora": "test_terminal_width_ops.py::test_reports_dora",
    "_dora:_keys_table": "test_terminal_width_ops.py::test_reports_dora",
    "_server:tokens_list": "test_terminal_width_ops.py::test_tokens_list",
    "_llm:_failures_table": "test_terminal_width_ops.py::test_prompts",
    "_llm:evaluate": "test_terminal_width_ops.py::test_prompts",
    "_llm:promote": "test_terminal_width_ops.py::test_prompts",
    "_llm:traces": "test_terminal_width_ops.py::test_prompts",
    "_llm:index_evaluate": "test_terminal_width_ops.py::test_prompts",
}


@pytest.fixture(params=WIDTHS)
def width(request: pytest.FixtureRequest) -> int:
    w: int = request.param
    return w


@pytest.fixture
def versions(train_version: Callable[..., ModelVersion]) -> list[ModelVersion]:
    return [train_version(), train_version()]


@pytest.fixture
def store_with_history(versions: list[ModelVersion]) -> list[str]:
    """Two versions of churn; v2 promoted to production then rolled back with a long
    reason. Plus runs with many metrics and a long param; returns the ids of those runs."""
    promote("churn", 1, "production", reason="first model")
    promote("churn", 2, "production", reason="weekly retrain, better on the golden hold-out")
    rollback("churn", "production", reason=REASON)
    ids = []
    for i in range(3):
        params = {"C": (0.1, 0.2, 0.3)[i], "source": LONG_PATH}
        with ll.start_run(experiment="churn-with-a-long-experiment-name", params=params) as run:
            run.log_metrics({m: 0.5 + i / 10 for m in METRICS})
            run.log_metrics({"zz_holdout_auc": 0.812345 + i / 100})
            run.set_tags({"team": "retention", "ticket": REASON})
        ids.append(run.id)
    return ids


def test_every_table_is_rendered_here() -> None:
    """A new table in the CLI gets a row in RENDERED and a render in one of these tests."""
    drawing = set()
    for path in Path(loopline.cli.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and any(
                isinstance(c, ast.Call) and getattr(c.func, "id", None) == "table"
                for c in ast.walk(node)
            ):
                drawing.add(f"{path.stem}:{node.name}")
    assert drawing == set(RENDERED)


def test_the_check_catches_a_cut_or_a_split_cell() -> None:
    drawn = Drawn([(["run", "experiment"], [["46612992", "churn-with-a-long-experiment-name"]])])
    whole = ["run", "experiment"]
    assert_whole(" 46612992   churn-with-a-long-experiment-name ", drawn, whole, ())
    for shown in (
        " 46612992   churn-with-a-long-exp… ",
        " 46612992   churn-with-a-long-\n            experiment-name",
        " churn-with-a-long-experiment-name   46612992",  # not in column order
    ):
        with pytest.raises(AssertionError):
            assert_whole(shown, drawn, whole, ())
    with pytest.raises(AssertionError, match="not shown"):
        assert_whole(" 46612992 ", Drawn([(["run"], [["46612992"]])]), whole, ())


def test_runs_list_keeps_the_sorted_metric_whole(width: int, store_with_history: list[str]) -> None:
    key = ["run", "experiment", "status"]
    out = render(width, "runs", "list", "--sort", "metric.zz_holdout_auc desc",
                 whole=[*key, "zz_holdout_auc"])  # fmt: skip
    seen = words(out)
    assert {r[:8] for r in store_with_history} <= seen
    assert {"zz_holdout_auc", "0.8323", "0.8223", "0.8123"} <= seen  # the values sorted by
    lines = [line for line in out.splitlines() if "0.8323" in line]
    assert lines and store_with_history[2][:8] in lines[0]  # highest first, on its run's row
    assert "…" not in out
    if width == 80:  # what did not fit is named on one line, never cut
        note = next(line for line in out.splitlines() if "hidden at 80 columns" in line)
        assert note.endswith("--wide shows them)")
    unsorted = render(width, "runs", "list", whole=key)
    assert "…" not in unsorted
    wide = CliRunner().invoke(app, ["runs", "list", "--wide"], env={"COLUMNS": str(width)})
    assert all(m in wide.output for m in METRICS) and "hidden" not in wide.output


def test_runs_list_without_a_match_says_so(width: int, store_with_history: list[str]) -> None:
    out = render(width, "runs", "list", "--tag", "team=fraud")
    assert "No runs match --tag team=fraud" in out and "5 runs in the store" in out
    assert "No runs yet" not in out and "start_run" not in out
    out = render(width, "runs", "list", "--status", "failed", "--experiment", "churn")
    assert "No runs match --status failed (2 runs in experiment 'churn')." in out


def test_runs_list_on_an_empty_store_says_how_to_start(width: int) -> None:
    open_metadata_store()  # a project's store, with nothing in it yet
    out = render(width, "runs", "list")
    assert "No runs in the store yet: start one with `ll.start_run(...)`" in out


def test_runs_show_and_compare(
    width: int, versions: list[ModelVersion], store_with_history: list[str]
) -> None:
    tracked = render(width, "runs", "show", store_with_history[0],
                     whole=["what", "param", "tag", "metric"])  # fmt: skip
    assert "…" not in tracked and "zz_holdout_auc      0.812345" in tracked
    assert LONG_PATH in "".join(line.strip() for line in tracked.splitlines())  # wraps, whole
    trained = render(width, "runs", "show", versions[0].run_id,
                     whole=["name", "fingerprint", "path", "sha256"])  # fmt: skip
    assert "…" not in trained

    runs = [*store_with_history, *(v.run_id for v in versions)]
    for compared in (runs[:3], runs):
        out = render(width, "runs", "compare", *compared, whole=["key"])
        assert "…" not in out  # long values wrap
        # The first runs, whole, side by side; the ones that did not fit named below.
        shown = next(line for line in out.splitlines() if "key" in line).split()[1:]
        assert len(shown) >= 2 and shown == [r[:8] for r in compared[: len(shown)]]
        assert re.search(r"≠ +metric.zz_holdout_auc +0.812345 +0.822345", out)
        hidden = [r[:8] for r in compared[len(shown) :]]
        assert not hidden or f"(hidden at {width} columns: {', '.join(hidden)};" in out
    wide = CliRunner().invoke(app, ["runs", "compare", *runs, "--wide"])
    assert all(r[:8] in wide.output for r in runs) and "hidden" not in wide.output


def test_experiments_list(width: int, store_with_history: list[str]) -> None:
    out = render(width, "experiments", "list", whole=["id", "name", "runs"])
    assert {"churn", "churn-with-a-long-experiment-name"} <= words(out)


def test_models_tables(
    width: int, versions: list[ModelVersion], store_with_history: list[str]
) -> None:
    listed = render(width, "models", "list", whole=["model", "latest", "aliases"])
    assert {"churn", "2", "production→v1"} <= words(listed)

    shown = render(width, "models", "show", "churn", whole=["version", "aliases", "run", "gate"])
    assert {"v1", "v2", "production"} <= words(shown)
    assert {v.run_id[:8] for v in versions} <= words(shown)

    history = render(width, "models", "history", "churn",
                     whole=["when", "alias", "from", "to"])  # fmt: skip
    head = next(line for line in history.splitlines() if "alias" in line and "reason" in line)
    assert {"when", "alias", "from", "to", "reason"} <= set(head.split())
    rows = [line for line in history.splitlines() if "production" in line]
    assert len(rows) == 3 and "v2" in rows[-1] and "v1" in rows[-1]  # the rollback v2 → v1
    assert "INC-4711:" in history and "rerun" in history  # the reason wraps, whole
    assert "…" not in history

    lineage = render(width, "models", "lineage", "models:/churn@production")
    assert "@production v2 → v1" in lineage

    card = render(width, "models", "card", "churn", "1", whole=["field"])
    assert "intended_use" in card and "…" not in card


def test_models_evaluate_and_evaluations(
    width: int, versions: list[ModelVersion], holdout: Path
) -> None:
    uris = ["models:/churn/1", "models:/churn/2"]
    evaluated = render(width, "models", "evaluate", uris[0], "--against", uris[1],
                       "--data", str(holdout), "--target", "label",
                       whole=["metric", *uris])  # fmt: skip
    assert {"auc", "latency_per_row_batch_ms"} <= words(evaluated)
    out = render(width, "models", "evaluations", "churn", "1", whole=["id", "by", "trusted"])
    assert "…" not in out


def test_data_validate_lists_failures_first_and_counts_passes(width: int, tmp_path: Path) -> None:
    df = pd.DataFrame(
        {
            "senior_citizen_present": [0, 1, 0, 1] * 10,
            "customer_lifetime_value_eur": [100.0 + i for i in range(40)],
            "contract_type": ["monthly", "annual"] * 20,
        }
    )
    contract = tmp_path / "contract.yaml"
    infer_contract(df, name="customers").save(contract)
    bad = df.copy()
    bad.loc[0, "contract_type"] = "weekly"
    bad.loc[1, "customer_lifetime_value_eur"] = -5e6
    data = tmp_path / "customers.parquet"
    bad.to_parquet(data)

    key = ["rule", "status", "failing"]
    out = render(width, "data", "validate", str(data), "--contract", str(contract),
                 whole=key, codes=[1])  # fmt: skip
    rules = out.split("rules passed")[0]  # the table, before the count and the summary
    failed = [line for line in rules.splitlines() if " failed " in line]
    assert failed and all(line.split()[0].startswith(tuple(df.columns)) for line in failed)
    assert "contract_type." in out and "customer_lifetime_value_eur." in out  # ids whole
    assert re.search(r"^\d+ rules passed \(--all lists them\)$", out, re.M)
    assert "senior_citizen_present.present" not in out  # a passed rule is only counted

    every = render(width, "data", "validate", str(data), "--contract", str(contract), "--all",
                   whole=key, codes=[1])  # fmt: skip
    assert "senior_citizen_present.present" in every
    # Free text wraps between words: no identifier or number split across lines.
    assert {"values", "outside", "[96.1", "142.9]", "-5000000.0", "'weekly'"} <= words(every)
    lines = every.splitlines()
    first_pass = next(i for i, line in enumerate(lines) if " passed " in line)
    assert all(" failed " not in line for line in lines[first_pass:-3])  # failures first

    profile = render(width, "data", "profile", str(data), whole=["column", "null"])
    assert {"senior_citizen_present", "customer_lifetime_value_eur"} <= words(profile)


def test_data_versions(width: int, versions: list[ModelVersion]) -> None:
    out = render(width, "data", "versions", "train", whole=["fingerprint", "rows"])
    assert {v.run_id[:8] for v in versions} <= words(out)


def _every_command() -> Iterator[tuple[list[str], Any]]:
    """(the words after `loopline`, the command) for every group and command."""
    root = typer.main.get_command(app)
    ctx = root.make_context("loopline", [], resilient_parsing=True)
    todo: list[tuple[list[str], Any]] = [([], root)]
    while todo:
        path, group = todo.pop(0)
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            assert command is not None, (path, name)
            yield [*path, name], command
            if isinstance(command, TyperGroup):
                todo.append(([*path, name], command))


TYPE_TAG = re.compile(r"<(bool|str|int|float|path|list\[[a-z]+\]|[a-z]+ \| None)>")


def test_help_has_no_type_tags_and_no_hard_line_breaks() -> None:
    """Every command's --help at 80 columns: no `<bool>` / `<list[str]>` tags; each paragraph
    of its description on one line when the terminal is wide enough (docstrings are written
    wrapped at 100 columns, so their line breaks must not reach the screen)."""
    tagged, broken = [], []
    for path, command in _every_command():
        where, args = " ".join(path), [*path, "--help"]
        out = CliRunner().invoke(app, args, env={"COLUMNS": "80"}).output
        tagged += [f"{where}: {t}" for t in TYPE_TAG.findall(out)]
        wide = CliRunner().invoke(app, args, env={"COLUMNS": "1000"}).output
        for paragraph in (reflow(command.help) or "").split("\n\n"):
            if "\n" not in paragraph and paragraph.strip("\b") not in wide:
                broken.append(f"{where}: {paragraph[:60]}")
    assert not tagged, tagged
    assert not broken, broken
    group = CliRunner().invoke(app, ["models", "--help"], env={"COLUMNS": "200"}).output
    # The docstring breaks this sentence after "rollout"; re-flowed, it is on one line.
    assert any(
        "for a rollout (`loopline deployments start`)" in line for line in group.splitlines()
    )
    usage = CliRunner().invoke(app, ["models", "gate", "--help"], env={"COLUMNS": "120"}).output
    assert "loopline models gate [OPTIONS] MODEL VERSION [ALIAS]" in usage
