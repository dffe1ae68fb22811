"""Every table-producing command fits an 80- and a 120-column terminal with its key columns
whole: the model name, version, alias, run id prefix and the metric a listing is sorted by.

Run in-process with Typer's CliRunner (a subprocess per render would take minutes); rich's
console width is set directly, as COLUMNS is read once when the console is created.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

import loopline as ll
from loopline.cli import _output, app
from loopline.data import infer_contract
from loopline.gates import promote
from loopline.registry import rollback
from loopline.store import ModelVersion

WIDTHS = (80, 120)
REASON = (
    "incident INC-4711: the March feature backfill double-counted monthly charges for "
    "customers on annual contracts; rolling back until the pipeline is rerun"
)
# Long metric names push the table past 80 columns; the sort key sorts last by name.
METRICS = ("accuracy", "calibration_error", "f1", "log_loss", "precision", "recall")


@pytest.fixture(params=WIDTHS)
def width(request: pytest.FixtureRequest) -> Iterator[int]:
    w: int = request.param
    before = _output.console._width  # rich's own override slot (None: follow the terminal)
    _output.console.width = w
    yield w
    _output.console._width = before


@pytest.fixture
def versions(train_version: Callable[..., ModelVersion]) -> list[ModelVersion]:
    return [train_version(), train_version()]


@pytest.fixture
def store_with_history(versions: list[ModelVersion]) -> list[str]:
    """Two versions of churn; v2 promoted to production then rolled back with a long
    reason. Plus runs with many metrics; returns the ids of those runs."""
    promote("churn", 1, "production", reason="first model")
    promote("churn", 2, "production", reason="weekly retrain, better on the golden hold-out")
    rollback("churn", "production", reason=REASON)
    ids = []
    for i in range(3):
        with ll.start_run(experiment="churn-with-a-long-experiment-name") as run:
            run.log_metrics({m: 0.5 + i / 10 for m in METRICS})
            run.log_metrics({"zz_holdout_auc": 0.812345 + i / 100})
        ids.append(run.id)
    return ids


def render(width: int, *args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": str(width)})
    assert result.exit_code in (0, 1), (args, result.output, result.exception)
    too_wide = [line for line in result.output.splitlines() if cell_len(line) > width]
    assert not too_wide, (args, too_wide)
    return result.output


def words(out: str) -> set[str]:
    return {w.strip(",()") for line in out.splitlines() for w in line.split()}


def test_runs_list_keeps_the_sorted_metric_whole(width: int, store_with_history: list[str]) -> None:
    out = render(width, "runs", "list", "--sort", "metric.zz_holdout_auc desc")
    seen = words(out)
    assert {r[:8] for r in store_with_history} <= seen
    assert {"zz_holdout_auc", "0.8323", "0.8223", "0.8123"} <= seen  # the values sorted by
    lines = [line for line in out.splitlines() if "0.8323" in line]
    assert lines and store_with_history[2][:8] in lines[0]  # highest first, on its run's row
    assert "…" not in out
    if width == 80:  # what did not fit is named, never cut
        assert "hidden at 80 columns" in out and "--wide" in out
    wide = CliRunner().invoke(app, ["runs", "list", "--wide"], env={"COLUMNS": str(width)})
    assert all(m in wide.output for m in METRICS) and "hidden" not in wide.output


def test_runs_list_without_a_match_says_so(width: int, store_with_history: list[str]) -> None:
    out = render(width, "runs", "list", "--tag", "team=fraud")
    assert "No runs match --tag team=fraud" in out and "5 runs in the store" in out
    assert "No runs yet" not in out


def test_models_tables(
    width: int, versions: list[ModelVersion], store_with_history: list[str]
) -> None:
    listed = words(render(width, "models", "list"))
    assert {"churn", "2", "production→v1"} <= listed

    shown = render(width, "models", "show", "churn")
    assert {"v1", "v2", "production"} <= words(shown)
    assert {v.run_id[:8] for v in versions} <= words(shown)

    history = render(width, "models", "history", "churn")
    head = next(line for line in history.splitlines() if "alias" in line and "reason" in line)
    assert {"when", "alias", "from", "to", "reason"} <= set(head.split())
    rows = [line for line in history.splitlines() if "production" in line]
    assert len(rows) == 3 and "v2" in rows[-1] and "v1" in rows[-1]  # the rollback v2 → v1
    assert "INC-4711:" in history and "rerun" in history  # the reason wraps, whole
    assert "…" not in history

    lineage = render(width, "models", "lineage", "models:/churn@production")
    assert "@production v2 → v1" in lineage

    card = render(width, "models", "card", "churn", "1")
    assert "intended_use" in card


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

    out = render(width, "data", "validate", str(data), "--contract", str(contract))
    rules = out.split("rules passed")[0]  # the table, before the count and the summary
    failed = [line for line in rules.splitlines() if " failed " in line]
    assert failed and all(line.split()[0].startswith(tuple(df.columns)) for line in failed)
    assert "contract_type." in out and "customer_lifetime_value_eur." in out  # ids whole
    assert "rules passed (--all lists them)" in out
    assert "senior_citizen_present.present" not in out  # a passed rule is only counted

    every = render(width, "data", "validate", str(data), "--contract", str(contract), "--all")
    assert "senior_citizen_present.present" in every
    lines = every.splitlines()
    first_pass = next(i for i, line in enumerate(lines) if " passed " in line)
    assert all(" failed " not in line for line in lines[first_pass:-3])  # failures first

    profile = render(width, "data", "profile", str(data))
    assert {"senior_citizen_present", "customer_lifetime_value_eur"} <= words(profile)


def test_help_has_no_type_tags_and_no_hard_line_breaks() -> None:
    for args in (["runs", "list", "--help"], ["models", "gate", "--help"], ["--help"]):
        out = CliRunner().invoke(app, args, env={"COLUMNS": "120"}).output
        assert "<bool>" not in out and "<str>" not in out and "<list[str]>" not in out, out
    group = CliRunner().invoke(app, ["models", "--help"], env={"COLUMNS": "200"}).output
    # The docstring breaks this sentence after "rollout"; re-flowed, it is on one line.
    assert any(
        "for a rollout (`loopline deployments start`)" in line for line in group.splitlines()
    )
    usage = CliRunner().invoke(app, ["models", "gate", "--help"], env={"COLUMNS": "120"}).output
    assert "loopline models gate [OPTIONS] MODEL VERSION [ALIAS]" in usage


def test_deployments_list_keeps_status_and_versions_whole(
    width: int, versions: list[ModelVersion]
) -> None:
    """Finding (tryout): at 80 columns `deploy list` (now `deployments list`) cut status and
    strategy to "complet…"/"strate…" and the percentage to "1…"."""
    from loopline.serving import deploy, rollback_deployment

    promote("churn", 1, "production", reason="first model")
    deploy("churn", 2, strategy="blue_green")
    rollback_deployment("churn", reason=REASON)
    out = render(width, "deployments", "list", "churn")
    seen = words(out)
    assert {"blue_green", "rolled_back", "v1", "v2"} <= seen, out
    assert "…" not in out
