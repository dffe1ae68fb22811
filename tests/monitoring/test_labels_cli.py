"""`loopline monitors labels list|remove` (issue 16): every ingested labels file can be seen (id,
file, rows, when, who) and removed again by its id; ingesting and removing are audited, and a
refused call leaves the files as they were."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from loopline.cli import app
from loopline.config import load_settings
from loopline.errors import InvalidInputError, NotFoundError
from loopline.monitoring import _performance as perf
from loopline.monitoring import ingest_labels, load_labels
from loopline.monitoring._performance import list_labels, remove_labels
from loopline.store import open_metadata_store
from tests.conftest import run_cli


def capture(home: Path, model: str, ids: list[str], rows_per_request: int = 1) -> None:
    """A capture file as serving writes it (only what label ingestion reads matters here)."""
    folder = home / "capture" / model / time.strftime("%Y-%m-%d")
    folder.mkdir(parents=True, exist_ok=True)
    records = [
        {
            "request_id": rid,
            "row": k,
            "ts": time.time(),
            "version": 1,
            "arm": "main",
            "latency_ms": 1.0,
            "prediction": json.dumps(1),
            "probability": 0.5,
            "inputs": json.dumps({"x": float(i)}),
        }
        for i, rid in enumerate(ids)
        for k in range(rows_per_request)
    ]
    pd.DataFrame(records).to_parquet(folder / f"{model}-{len(list(folder.iterdir()))}.parquet")


def outcomes(path: Path, ids: list[str], label: int = 1) -> Path:
    pd.DataFrame({"request_id": ids, "label": [label] * len(ids)}).to_csv(path, index=False)
    return path


def label_actions() -> list[tuple[str, str, str]]:
    return [
        (e.action, e.actor, e.target_id)
        for e in open_metadata_store().list_audit_events()
        if e.action.startswith("labels.")
    ]


def test_list_shows_each_file_and_remove_takes_it_out(
    home: Path, tmp_path: Path, switch_user: Callable[..., None]
) -> None:
    switch_user("dana", "ml-engineer")
    ids = [f"r{i}" for i in range(20)]
    capture(home, "churn", ids)
    runner = CliRunner()
    first = runner.invoke(
        app, ["monitors", "labels", str(outcomes(tmp_path / "week1.csv", ids[:10])), "--json"]
    )  # the form documented before `add` existed still works
    assert first.exit_code == 0, first.output
    one = json.loads(first.stdout)
    assert (one["model"], one["rows"], one["matched"]) == ("churn", 10, 10)
    second = runner.invoke(
        app, ["monitors", "labels", "add", str(outcomes(tmp_path / "week2.csv", ids[5:15], 0))]
    )
    assert second.exit_code == 0, second.output
    assert "10 label(s) for churn; 10 match a prediction" in second.stdout

    listed = runner.invoke(app, ["monitors", "labels", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    files = json.loads(listed.stdout)
    assert [(f["model"], f["source"], f["rows"], f["ingested_by"]) for f in files] == [
        ("churn", "week1.csv", 10, "dana"),
        ("churn", "week2.csv", 10, "dana"),
    ]
    assert files[0]["id"] == one["id"] and files[0]["ingested_at"] <= files[1]["ingested_at"]
    text = runner.invoke(app, ["monitors", "labels", "list"], env={"COLUMNS": "200"})
    assert one["id"] in text.stdout and "week1.csv" in text.stdout and "dana" in text.stdout
    labels = load_labels(load_settings().home, "churn")
    assert len(labels) == 15  # r5..r9 labelled twice: the later file wins
    assert labels.set_index("request_id").loc["r7", "label"] == "0"

    switch_user("omar", "ml-engineer")
    gone = runner.invoke(app, ["monitors", "labels", "remove", files[1]["id"]])
    assert gone.exit_code == 0, gone.output
    assert f"removed labels {files[1]['id']} of churn (10 row(s))" in gone.stdout
    assert [f.id for f in list_labels()] == [one["id"]]
    labels = load_labels(load_settings().home, "churn")
    assert sorted(labels["request_id"]) == sorted(ids[:10])
    assert set(labels["label"]) == {"1"}  # the earlier file's labels are back in force
    assert label_actions() == [
        ("labels.ingested", "dana", f"churn/{one['id']}"),
        ("labels.ingested", "dana", f"churn/{files[1]['id']}"),
        ("labels.removed", "omar", f"churn/{files[1]['id']}"),
    ]


def test_list_filters_by_model_and_reads_files_from_before(home: Path, tmp_path: Path) -> None:
    capture(home, "churn", ["a1", "a2"])
    capture(home, "fraud", ["b1", "b2"])
    ingest_labels(outcomes(tmp_path / "a.csv", ["a1", "a2"]), model="churn")
    ingest_labels(outcomes(tmp_path / "b.csv", ["b1"]), model="fraud")
    # A file written before `ingested_by` and `source` were recorded.
    old = home / "labels" / "fraud" / "1000-1.parquet"
    pd.DataFrame(
        {"request_id": ["b2"], "row": [-1], "label": ["0"], "ingested_at": [1000.0]}
    ).to_parquet(old)
    assert [(f.model, f.rows) for f in list_labels("churn")] == [("churn", 2)]
    fraud = list_labels("fraud")
    assert (fraud[0].id, fraud[0].source, fraud[0].ingested_by, fraud[0].ingested_at) == (
        "1000-1",
        "",
        "",
        1000.0,
    )
    assert [f.source for f in fraud] == ["", "b.csv"]
    assert list_labels("nobody") == []
    assert sorted(load_labels(home, "fraud")["request_id"]) == ["b1", "b2"]
    remove_labels("1000-1")
    assert not old.exists() and sorted(load_labels(home, "fraud")["request_id"]) == ["b1"]


def test_mistakes_are_one_line_and_change_nothing(home: Path, tmp_path: Path) -> None:
    capture(home, "churn", ["a1", "a2"])
    got = ingest_labels(outcomes(tmp_path / "a.csv", ["a1", "a2"]))
    before = sorted((home / "labels").rglob("*"))
    events = label_actions()
    for args, words in (
        (["remove", "123-4"], "no labels file '123-4'"),
        (["remove", "../../etc"], "not a plain name"),
        (["remove", got.id, "--model", "fraud"], "no labels file"),
        (["list", "--model", "../x"], "not a plain name"),
        (["add", str(tmp_path / "missing.csv")], "does not exist"),
    ):
        bad = run_cli("monitors", "labels", *args)
        assert bad.returncode == 2, (args, bad.stdout, bad.stderr)
        assert words in bad.stderr and "Traceback" not in bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1
    nokey = tmp_path / "nokey.csv"
    pd.DataFrame({"id": ["a1"], "label": [1]}).to_csv(nokey, index=False)
    bad = run_cli("monitors", "labels", str(nokey))
    assert bad.returncode == 2 and "no column 'request_id'" in bad.stderr
    assert sorted((home / "labels").rglob("*")) == before
    assert label_actions() == events


def test_an_id_of_two_models_needs_the_model(home: Path, tmp_path: Path) -> None:
    capture(home, "churn", ["a1"])
    got = ingest_labels(outcomes(tmp_path / "a.csv", ["a1"]), model="churn")
    twin = home / "labels" / "fraud" / got.path.name
    twin.parent.mkdir(parents=True)
    twin.write_bytes(got.path.read_bytes())
    with pytest.raises(InvalidInputError, match="several models"):
        remove_labels(got.id)
    assert got.path.exists() and twin.exists()
    assert remove_labels(got.id, model="fraud").model == "fraud"
    assert got.path.exists() and not twin.exists()
    with pytest.raises(NotFoundError):
        remove_labels(got.id, model="fraud")


def test_an_unrecorded_change_is_not_kept(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The audit write is refused (e.g. a role without monitors.write on the team server):
    a removal puts the file back, an ingestion keeps nothing."""
    capture(home, "churn", ["a1", "a2"])
    got = ingest_labels(outcomes(tmp_path / "a.csv", ["a1", "a2"]))

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError("monitors.write needed")

    monkeypatch.setattr(perf, "_audit", refuse)
    with pytest.raises(PermissionError):
        remove_labels(got.id)
    assert [f.id for f in list_labels()] == [got.id]
    assert sorted(p.name for p in (home / "labels" / "churn").iterdir()) == [got.path.name]
    with pytest.raises(PermissionError):
        ingest_labels(outcomes(tmp_path / "b.csv", ["a1"]))
    assert sorted(p.name for p in (home / "labels" / "churn").iterdir()) == [got.path.name]


def test_store_records_label_changes_and_refuses_others(
    switch_user: Callable[..., None],
) -> None:
    switch_user("dana", "ml-engineer")  # remote: the actor is the token's user, whatever is sent
    store = open_metadata_store()
    store.record_labels_change(
        "churn", action="removed", labels_id="17-2", rows=3, source="w.csv", actor="dana"
    )
    (event,) = [e for e in store.list_audit_events() if e.action.startswith("labels.")]
    assert (event.action, event.actor, event.target_kind, event.target_id) == (
        "labels.removed",
        "dana",
        "labels",
        "churn/17-2",
    )
    assert event.after == {"model": "churn", "labels_id": "17-2", "rows": 3, "source": "w.csv"}
    for kwargs in (
        {"action": "edited"},
        {"rows": -1},
        {"labels_id": "x" * 500},
    ):
        args = {"action": "ingested", "labels_id": "1-1", "rows": 1, "source": "", **kwargs}
        with pytest.raises(InvalidInputError):
            store.record_labels_change("churn", actor="dana", **args)  # type: ignore[arg-type]
    assert len([e for e in store.list_audit_events() if e.action.startswith("labels.")]) == 1
