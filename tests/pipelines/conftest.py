"""A small pipeline of plain functions (with a log of which steps executed), and gates that
measure latency on a few rows so promote steps stay fast."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from loopline.pipelines import PipelineSpec, load_pipeline
from loopline.store import MonitoringStore

STEPS = """
import os
from pathlib import Path

import numpy as np
import pandas as pd


def _executed(name):
    with Path(os.environ["TOY_LOG"]).open("a") as f:
        f.write(name + "\\n")


def make(n, seed):
    _executed("make")
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    return pd.DataFrame({"a": a, "b": rng.normal(size=n), "label": (a > 0).astype("int64")})


def stats(data):
    _executed("stats")
    print("rows:", len(data))
    return {"mean_a": float(data["a"].mean()), "rows": len(data)}


def double(data, factor):
    _executed("double")
    return {"doubled": data.assign(a=data["a"] * factor), "total": float(data["a"].sum() * factor)}


def report(summary, total):
    _executed("report")
    return f"{summary['rows']} rows, total {total:.3f}"


def boom(data):
    _executed("boom")
    print("about to fail on", len(data), "rows")
    raise ValueError("boom: the data has a problem")


def flaky(data, fail_times):
    marker = Path(os.environ["TOY_LOG"]).with_suffix(".attempts")
    attempts = int(marker.read_text()) + 1 if marker.exists() else 1
    marker.write_text(str(attempts))
    _executed("flaky")
    if attempts <= fail_times:
        raise ConnectionError(f"worker lost (attempt {attempts})")
    return len(data)


def fit(data):
    from sklearn.linear_model import LogisticRegression

    X, y = data[["a", "b"]], data["label"]
    return LogisticRegression().fit(X, y)


def kinds(data):
    return {"frame": data, "json": {"k": [1, 2.5, "x"]}, "array": data["a"].to_numpy(),
            "obj": (1, "tuple"), "text": "plain"}
"""

SPEC = """
name: toy
params: {n: 50, seed: 1, factor: 2, fail_times: 0}
steps:
  make: {run: steps:make, params: [n, seed], outputs: [data]}
  stats: {run: steps:stats, inputs: {data: make.data}, outputs: [summary]}
  double:
    run: steps:double
    inputs: {data: make.data}
    params: [factor]
    outputs: [doubled, total]
  report:
    run: steps:report
    inputs: {summary: stats.summary, total: double.total}
    outputs: [text]
"""


class Toy:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.log = folder / "executed.log"

    def write(self, spec: str = SPEC, extra_steps: str = "") -> PipelineSpec:
        (self.folder / "loopline.yaml").write_text(textwrap.dedent(spec))
        (self.folder / "steps.py").write_text(STEPS + extra_steps)
        return load_pipeline(self.folder)

    def executed(self) -> list[str]:
        """Steps whose function ran since the last call."""
        if not self.log.exists():
            return []
        names = self.log.read_text().split()
        self.log.unlink()
        return names


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Toy:
    folder = tmp_path / "toy"
    folder.mkdir()
    monkeypatch.setenv("TOY_LOG", str(folder / "executed.log"))
    return Toy(folder)


@pytest.fixture
def fast_gates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Gates time single-row predictions 50 times per model; 3 keep these tests quick."""
    monkeypatch.setattr("loopline.registry._evaluate._LATENCY_SAMPLES", 3)


@pytest.fixture
def monitoring_store() -> MonitoringStore:
    """The metadata store with its monitoring half (alerts, retrain requests).

    Until `SqlMetadataStore` itself includes `SqlMonitoringStore`, compose the two the way
    the seam will, and make it the store every `open_metadata_store()` returns.
    """
    import loopline.store as store_mod
    from loopline.store import open_metadata_store
    from loopline.store.sql import SqlMetadataStore
    from loopline.store.sql._monitoring import SqlMonitoringStore

    store = open_metadata_store()
    if isinstance(store, MonitoringStore):
        return store

    class Monitored(SqlMonitoringStore, SqlMetadataStore):
        pass

    combined = Monitored(store.url)
    store_mod._OPEN[store.url] = combined
    store.close()
    return combined
