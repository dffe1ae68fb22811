from __future__ import annotations

import json

import loopline as ll
from loopline.store.sql._migrate import known_revisions
from tests.conftest import run_cli


def _two_runs() -> list[str]:
    ids = []
    for c, auc in ((0.1, 0.81), (1.0, 0.86)):
        with ll.start_run(experiment="churn", params={"C": c, "solver": "lbfgs"}) as run:
            run.log_metrics({"auc": auc}, step=0)
        ids.append(run.id)
    return ids


def test_runs_list_show_compare_json() -> None:
    a, b = _two_runs()
    listed = run_cli("runs", "list", "--json", "--sort", "metric.auc desc")
    assert listed.returncode == 0, listed.stderr
    assert [r["id"] for r in json.loads(listed.stdout)] == [b, a]

    shown = json.loads(run_cli("runs", "show", a[:8], "--json").stdout)
    assert shown["id"] == a and shown["params"] == {"C": "0.1", "solver": "lbfgs"}
    assert shown["lineage"]["python_version"] and shown["metric_points"] == {"auc": 1}

    compared = json.loads(run_cli("runs", "compare", a, b, "--json").stdout)
    rows = {(r["kind"], r["key"]): r for r in compared["rows"]}
    assert rows[("param", "C")]["differs"] and not rows[("param", "solver")]["differs"]
    assert rows[("metric", "auc")]["values"] == [0.81, 0.86]


def test_tables_for_people() -> None:
    a, _ = _two_runs()
    out = run_cli("runs", "list").stdout
    assert a[:8] in out and "auc" in out and "finished" in out
    shown = run_cli("runs", "show", a).stdout
    assert "Lineage" in shown and "Params" in shown and "0.81" in shown
    exps = json.loads(run_cli("experiments", "list", "--json").stdout)
    assert [(e["name"], e["run_count"]) for e in exps] == [("churn", 2)]


def test_user_errors_are_one_line_exit_2() -> None:
    assert run_cli("db", "upgrade").returncode == 0  # a store to look in (lists need none)
    for args in (
        ("runs", "show", "ffffffff"),
        ("runs", "list", "--experiment", "nope"),
        ("runs", "list", "--sort", "bogus"),
        ("runs", "compare", "abcd"),
    ):
        p = run_cli(*args)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert "Traceback" not in p.stderr
        assert len(p.stderr.strip().splitlines()) == 1, p.stderr
        assert p.stderr.startswith("error:")


def test_unwritable_home_is_one_line(tmp_path_factory: object) -> None:
    p = run_cli("db", "upgrade", env={"LOOPLINE_HOME": "/proc/loopline-home"})
    assert p.returncode == 2 and "LOOPLINE_HOME" in p.stderr and "Traceback" not in p.stderr


def test_db_upgrade_and_version() -> None:
    up = run_cli("db", "upgrade")
    head, _ = known_revisions()
    assert up.returncode == 0 and f"schema revision {head}" in up.stdout
    assert json.loads(run_cli("version", "--json").stdout) == {"loopline": ll.__version__}
