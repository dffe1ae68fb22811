"""The tables of the loop's later stages at 80 and 120 columns: the gate, deployments,
monitors, reports, tokens, prompts and indexes. Key columns (ids, names, versions, rules,
verdicts, status) whole; free text (messages, reasons) wraps; a column left out for want of
room is named, and `--wide` shows it (both checked by `render`: tests/cli/_terminal.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import loopline.llm
from loopline.gates import promote
from loopline.monitoring import monitoring_store
from loopline.store import ModelVersion, open_metadata_store
from tests.cli._terminal import render, words
from tests.llm.conftest import JSON_PROMPT, PROSE_PROMPT, LlmServer, support_cases, write_jsonl
from tests.llm.conftest import llm_server as llm_server  # the fixture, for test_prompts

WIDTHS = (80, 120)
REASON = (
    "incident INC-4711: the March feature backfill double-counted monthly charges for "
    "customers on annual contracts; rolling back until the pipeline is rerun"
)
URI = "models:/churn@production"


@pytest.fixture(params=WIDTHS)
def width(request: pytest.FixtureRequest) -> int:
    w: int = request.param
    return w


@pytest.fixture
def production(train_version: Callable[..., ModelVersion]) -> list[ModelVersion]:
    """churn v1 in production, v2 (trained on flipped labels) registered after it."""
    versions = [train_version(), train_version(corrupt=True)]
    promote("churn", 1, "production", reason="first model")
    return versions


def test_models_gate(width: int, production: list[ModelVersion], holdout: Path) -> None:
    policy = holdout.parent / "gate.yaml"
    policy.write_text("name: prod\nrules:\n  - auc >= 0.7\n  - auc >= champion.auc - 0.01\n")
    out = render(width, "models", "gate", "churn", "2", "production", "--policy", str(policy),
                 "--data", str(holdout), "--target", "label",
                 whole=["rule", "verdict"], codes=[1])  # fmt: skip
    assert "auc >= champion.auc - 0.01" in out and "FAIL" in out and "…" not in out


def test_deployments_list(width: int, production: list[ModelVersion]) -> None:
    """Finding (tryout): at 80 columns `deploy list` (now `deployments list`) cut status and
    strategy to "complet…"/"strate…" and the percentage to "1…"."""
    from loopline.serving import deploy, rollback_deployment

    deploy("churn", 2, strategy="blue_green")
    rollback_deployment("churn", reason=REASON)
    key = ["#", "strategy", "status", "champion", "challenger", "%"]
    out = render(width, "deployments", "list", "churn", whole=key)
    assert {"blue_green", "rolled_back", "v1", "v2"} <= words(out), out
    assert "…" not in out


def _capture(home: Path, n: int = 400) -> list[str]:
    """`n` served requests of churn v1 as serving captures them; feature b has shifted."""
    rng = np.random.default_rng(3)
    folder = home / "capture" / "churn" / time.strftime("%Y-%m-%d")
    folder.mkdir(parents=True, exist_ok=True)
    ids = [f"req-{i}" for i in range(n)]
    rows = [
        {"request_id": rid, "row": 0, "ts": time.time() - 60, "version": 1, "arm": "main",
         "latency_ms": 5.0 + i % 50, "prediction": json.dumps(i % 2), "probability": 0.5,
         "inputs": json.dumps({"a": float(rng.normal()), "b": float(rng.normal(-1.5, 1))})}
        for i, rid in enumerate(ids)
    ]  # fmt: skip
    pd.DataFrame(rows).to_parquet(folder / "churn-0.parquet")
    return ids


def test_monitors(width: int, production: list[ModelVersion], home: Path, tmp_path: Path) -> None:
    ids = _capture(home)
    outcomes = tmp_path / "outcomes-of-the-first-week-of-march.csv"
    pd.DataFrame({"request_id": ids, "label": [int(i % 3 == 0) for i in range(len(ids))]}).to_csv(
        outcomes, index=False
    )
    render(width, "monitors", "labels", "add", str(outcomes))
    ran = render(width, "monitors", "run", URI, "--window", "1d",
                 "--slo", "latency_p95_ms=20", "--slo", "min.accuracy=0.9",
                 whole=["feature", "value", "verdict"])  # fmt: skip
    assert "critical" in ran
    mon = monitoring_store(open_metadata_store())
    mon.request_retrain("churn", 1, reason=REASON, context={}, alert_id=None, actor="root")

    alerts = render(width, "monitors", "alerts", whole=["id", "model", "rule"])
    assert {"data_drift", "slo.latency", "performance"} <= words(alerts) and "…" not in alerts
    retrains = render(width, "monitors", "retrains", whole=["id", "model", "version", "status"])
    assert "INC-4711:" in retrains and "…" not in retrains
    labels = render(width, "monitors", "labels", "list", whole=["id", "model"])
    assert "…" not in labels
    performance = render(width, "monitors", "performance", URI, whole=["window", "accuracy"])
    assert "…" not in performance
    slo = render(width, "monitors", "slo", URI, whole=["window", "status"])
    assert "violated" in slo and "…" not in slo
    features = tmp_path / "features.csv"
    pd.DataFrame({"request_id": ids, "a": 0.0, "b": 1.0}).to_csv(features, index=False)
    skew = render(width, "monitors", "skew", URI, "--data", str(features), "--key", "request_id",
                  whole=["column", "skewed"])  # fmt: skip
    assert "yes" in skew


def test_reports_dora(width: int, production: list[ModelVersion]) -> None:
    from loopline.registry import rollback

    promote("churn", 2, "production", reason="weekly retrain")
    rollback("churn", "production", reason=REASON)
    key = ["model", "deploys", "lead h", "fail rate", "restore h", "week", "value"]
    out = render(width, "reports", "dora", whole=key)
    assert "drift alert → retrained model in production (median h)" in out


def test_tokens_list(width: int) -> None:
    render(width, "tokens", "create", "--user", "alexandra.papadopoulou@example.com",
           "--role", "ml-engineer", "--team", "retention-analytics")  # fmt: skip
    render(width, "tokens", "create", "--user", "bo", "--role", "viewer", "--days", "0")
    out = render(width, "tokens", "list", whole=["id", "prefix", "user", "role", "state"])
    assert "alexandra.papadopoulou@example.com" in out and "active" in out


class _ToyEmbedder:
    """Bag-of-words vectors: the CLI's index commands without downloading a model."""

    name = "toy"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, sum(map(ord, word)) % 64] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def test_prompts(
    width: int, llm_server: LlmServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loopline.llm import Trace, TraceLog

    env = {"LOOPLINE_LLM_BASE_URL": llm_server.url}
    for n, prompt in enumerate((JSON_PROMPT, PROSE_PROMPT), 1):
        (tmp_path / f"v{n}.yaml").write_text(yaml.safe_dump(prompt))
        render(width, "prompts", "register", "support-reply", str(tmp_path / f"v{n}.yaml"))
    cases = str(write_jsonl(tmp_path / "support.jsonl", support_cases()))
    evaluated = render(width, "prompts", "evaluate", "prompts:/support-reply/1", "--set", cases,
                       whole=["metric", "value"], env=env)  # fmt: skip
    assert "pass_rate" in evaluated
    (tmp_path / "gate.yaml").write_text("rules:\n  - pass_rate >= champion.pass_rate\n")
    gate = ["--policy", str(tmp_path / "gate.yaml")]
    render(width, "prompts", "promote", "support-reply", "1", *gate, env=env)
    refused = render(width, "prompts", "promote", "support-reply", "2", "--set", cases, *gate,
                     whole=["rule", "verdict", "case"], codes=[1], env=env)  # fmt: skip
    assert "pass_rate >= champion.pass_rate" in refused and "not valid JSON" in refused

    for i in range(3):
        TraceLog().record(Trace(prompt="support-reply", version=1, model="m", cost_usd=0.5,
                                latency_ms=10.0 * (i + 1), request_id=f"r{i}"))  # fmt: skip
    traces = render(width, "prompts", "traces", "support-reply", whole=["metric", "value"])
    assert "requests" in traces

    monkeypatch.setattr(loopline.llm, "Embedder", _ToyEmbedder)
    corpus = write_jsonl(tmp_path / "docs.jsonl", [
        {"id": "refunds", "text": "Refunds are paid within 14 days of the return"},
        {"id": "shipping", "text": "Parcels ship within two working days"},
    ])  # fmt: skip
    queries = write_jsonl(tmp_path / "queries.jsonl", [
        {"query": "when are refunds paid", "relevant": ["refunds"]},
        {"query": "how fast do parcels ship", "relevant": ["shipping"]},
    ])  # fmt: skip
    render(width, "indexes", "build", "help-docs", "--corpus", str(corpus))
    index = render(width, "indexes", "evaluate", "indexes:/help-docs/1", "--queries",
                   str(queries), whole=["metric", "value"])  # fmt: skip
    assert "mrr" in index
