from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import loopline as ll
from loopline.errors import ConflictError, InvalidInputError
from loopline.store import MetricPoint, open_metadata_store


def test_run_records_params_metrics_and_finishes() -> None:
    with ll.start_run(experiment="churn", params={"C": 0.5, "penalty": "l2"}, seed=3) as run:
        for i in range(3):
            run.log_metric("loss", 1.0 / (i + 1))  # steps 0, 1, 2 assigned automatically
        run.log_metrics({"auc": 0.91, "f1": 0.8}, step=3)
    stored = open_metadata_store().get_run(run.id)
    assert stored.status == "finished" and stored.error is None
    assert stored.params == {"C": "0.5", "penalty": "l2"}
    assert stored.metrics == {"loss": pytest.approx(1 / 3), "auc": 0.91, "f1": 0.8}
    steps = [p.step for p in open_metadata_store().metric_history(run.id, "loss")]
    assert steps == [0, 1, 2]
    assert stored.lineage.seed == 3 and stored.lineage.python_version
    assert stored.lineage.packages_hash and len(stored.lineage.packages_hash) == 64


def test_exception_marks_run_failed_with_message() -> None:
    with pytest.raises(ZeroDivisionError), ll.start_run(experiment="e") as run:
        run.log_metric("before", 1.0)
        _ = 1 / 0
    stored = open_metadata_store().get_run(run.id)
    assert stored.status == "failed"
    assert stored.error == "ZeroDivisionError: division by zero"
    assert stored.metrics == {"before": 1.0}  # logged points survive the failure


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_metric_is_refused(bad: float) -> None:
    with ll.start_run() as run:
        with pytest.raises(InvalidInputError, match="non-finite"):
            run.log_metric("loss", bad, step=4)
        run.log_metric("loss", 1.0)
    assert open_metadata_store().get_run(run.id).metrics == {"loss": 1.0}


def test_bad_metric_key_and_value() -> None:
    with ll.start_run() as run:
        with pytest.raises(InvalidInputError, match="metric name"):
            run.log_metric("", 1.0)
        with pytest.raises(InvalidInputError, match="not a number"):
            run.log_metric("x", "high")  # type: ignore[arg-type]


def test_param_change_is_refused_and_store_unchanged() -> None:
    with ll.start_run(params={"C": 1}) as run, pytest.raises(ConflictError, match="cannot change"):
        run.log_params({"C": 2, "new": 1})
    assert open_metadata_store().get_run(run.id).params == {"C": "1"}


def test_dataset_fingerprint_and_profile_are_recorded() -> None:
    df = pd.DataFrame({"x": np.arange(100, dtype="float64"), "c": ["a", "b"] * 50})
    with ll.start_run() as run:
        ds = run.log_dataset(df, name="train", role="training", source="memory://df")
        again = run.log_dataset(df.copy(), name="train-copy", role="validation")
    assert ds.fingerprint == again.fingerprint  # same content, one dataset version
    assert ds.n_rows == 100 and ds.schema == {"x": "float64", "c": str(df["c"].dtype)}
    assert ds.profile["columns"]["x"]["quantiles"]["0.5"] == pytest.approx(49.5)
    assert ds.profile["columns"]["c"]["top"] == {"a": 50, "b": 50}
    uses = open_metadata_store().run_datasets(run.id)
    assert [(u.name, u.role) for u in uses] == [("train", "training"), ("train-copy", "validation")]


def test_artifacts_file_and_folder(tmp_path: Path) -> None:
    (tmp_path / "report.html").write_text("<h1>ok</h1>")
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "a.txt").write_text("a")
    (tmp_path / "plots" / "b.txt").write_text("b")
    with ll.start_run() as run:
        run.log_artifact(tmp_path / "report.html")
        run.log_artifact(tmp_path / "plots")
        with pytest.raises(InvalidInputError, match="does not exist"):
            run.log_artifact(tmp_path / "missing.txt")
    paths = [a.path for a in open_metadata_store().list_artifacts(run.id)]
    assert paths == ["report.html", "plots/a.txt", "plots/b.txt"]


def test_lineage_records_git_commit_and_dirty_flag(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.email=t@e", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q", str(repo)], check=True)
    (repo / "train.py").write_text("print(1)\n")
    subprocess.run([*git, "-C", str(repo), "add", "."], check=True)
    subprocess.run([*git, "-C", str(repo), "commit", "-qm", "init"], check=True)
    subprocess.run(
        [*git, "-C", str(repo), "remote", "add", "origin", "https://u:secret@example.com/r.git"],
        check=True,
    )
    head = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    script = textwrap.dedent(
        """
        import loopline as ll
        with ll.start_run(experiment="git") as run:
            print(run.id)
        """
    )
    (repo / "train.py").write_text("print(2)\n")  # uncommitted change
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=repo, capture_output=True, text=True, check=True
    )
    run = open_metadata_store().get_run(out.stdout.strip())
    assert run.lineage.git_commit == head
    assert run.lineage.git_dirty is True
    assert run.lineage.git_remote == "https://example.com/r.git"  # credentials stripped


def test_unclosed_run_is_finished_at_exit_or_failed_on_crash(home: Path) -> None:
    ok = "import loopline as ll\nr = ll.start_run()\nr.log_metric('m', 1.0)\nprint(r.id)\n"
    crash = ok + "raise RuntimeError('bad data')\n"
    ids = {}
    for name, code in (("ok", ok), ("crash", crash)):
        p = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=False
        )
        ids[name] = p.stdout.strip()
    store = open_metadata_store()
    assert store.get_run(ids["ok"]).status == "finished"
    crashed = store.get_run(ids["crash"])
    assert crashed.status == "failed" and crashed.error == "RuntimeError: bad data"
    assert crashed.metrics == {"m": 1.0}


def test_a_step_beyond_64_bits_is_refused_and_logging_goes_on() -> None:
    with ll.start_run() as run:
        with pytest.raises(InvalidInputError, match="64-bit"):
            run.log_metric("loss", 1.0, step=2**63)
        run.log_metric("loss", 0.5, step=2**63 - 1)
    history = open_metadata_store().metric_history(run.id, "loss")
    assert [(p.step, p.value) for p in history] == [(2**63 - 1, 0.5)]


_point = st.tuples(
    st.sampled_from(["loss", "auc", "lr"]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(-3, 6),  # duplicate and out-of-order steps
    st.sampled_from([1.0, 2.0, 3.5]),  # timestamp ties: logging order decides
)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(batches=st.lists(st.lists(_point, max_size=40), min_size=1, max_size=4))
def test_logged_points_come_back_sorted_whatever_the_batches(
    monkeypatch: pytest.MonkeyPatch, batches: list[list[tuple[str, float, int, float]]]
) -> None:
    """Through the buffer (batches of 7 points, flushes between the lists) and the store."""
    monkeypatch.setenv("LOOPLINE_FLUSH_EVERY_POINTS", "7")
    with ll.start_run() as run:
        for batch in batches:
            for key, value, step, stamp in batch:
                run.log_metric(key, value, step=step, timestamp=stamp)
            run.flush()
    logged = [p for batch in batches for p in batch]
    order = sorted(range(len(logged)), key=lambda i: (logged[i][0], logged[i][2], logged[i][3], i))
    want = [MetricPoint(*logged[i]) for i in order]
    assert open_metadata_store().metric_history(run.id) == want
