"""The rest of the demo-like store for the UI tests (see `_fill.fill`): a model whose newer
versions wait for an approval, dataset versions with their validation reports (one batch
rejected), a prompt with versions and evaluations, and LLM traces with feedback.

Written straight through the metadata store (no principal), like `_fill`."""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from loopline.ops._roles import acting_as
from loopline.store import FsspecArtifactStore, Lineage, MetadataStore

PENDING_MODEL = "fraud"
PROMPT = "support-reply"
DATASET = "churn-feed"
PENDING_POLICY = {
    "name": "production",
    "rules": ["auc >= 0.8"],
    "approvals": {"count": 1, "role": "approver"},
}
CONTRACT = """\
name: churn-feed
severity: error
columns:
  customer_id: {dtype: int, nullable: false, unique: true}
  tenure: {dtype: int, min: 0, max: 100}
  monthly_charges:
    dtype: float
    min: 0
    severity: warn
  contract: {dtype: string, allowed: [month-to-month, one year, two year]}
"""


@dataclass
class Pending:
    model: str
    production: int  # v1
    waiting: int  # v2: gate rules pass, the approval is missing
    failing: int  # v3: auc below the rule as well


def add_pending_model(
    store: MetadataStore, home: Path, name: str, package_sha: str, *, capture: bool = False
) -> Pending:
    """`name` v1 in production under a policy needing one approver's approval; v2 and v3
    registered by alice, evaluated by CI, their gate decided (and refused: no approval)."""
    with acting_as(None):
        run = store.create_run(
            name, f"{name} gbm", {"lr": "0.1"}, {"team": "risk"}, Lineage(user="alice")
        )
        store.finish_run(run.id, "finished")
        for v, auc in ((1, 0.9), (2, 0.91), (3, 0.7)):
            store.create_version(
                name,
                run_id=run.id,
                artifact_path="model",
                sha256=package_sha,
                flavor="sklearn",
                signature=None,
                metrics={"auc": auc},
                git_commit=None,
                created_by="alice",
                card={"intended_use": f"{name} scoring"},
            )
            if v == 1:
                store.set_alias_policy(name, "production", policy=PENDING_POLICY, actor="carol")
            store.record_evaluation(
                name,
                v,
                dataset_fingerprint=hashlib.sha256(f"{name}-holdout".encode()).hexdigest(),
                task="classification",
                metrics={"auc": auc},
                slices={},
                recorded_by="ci",
                recorder_role="ci",
            )
            if v == 1:
                store.add_approval(name, 1, approver="carol", role="approver", comment="baseline")
            decision = store.record_gate_decision(name, v, alias="production", decided_by="ci")
            if v == 1:
                store.move_alias(
                    name,
                    "production",
                    1,
                    actor="carol",
                    action="promote",
                    reason="baseline",
                    gate_decision_id=decision.id,
                )
    if capture:
        _one_minute_of_traffic(home, name, 1)
    return Pending(name, 1, 2, 3)


def _one_minute_of_traffic(home: Path, model: str, version: int) -> None:
    """Twelve requests within the current minute: a rate of 12 per minute, one point."""
    now = time.time()
    minute = now // 60 * 60
    n = 12
    frame = pd.DataFrame(
        {
            "request_id": [f"{model}-{i}" for i in range(n)],
            "row": np.zeros(n, dtype="int32"),
            "ts": minute + np.linspace(1, 50, n),
            "model": model,
            "version": np.full(n, version, dtype="int32"),
            "arm": "champion",
            "latency_ms": np.linspace(3, 9, n),
            "inputs": "{}",
            "prediction": "0",
            "probability": np.linspace(0, 1, n),
            "proba": None,
        }
    )
    folder = home / "capture" / model / time.strftime("%Y-%m-%d", time.gmtime(now))
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(folder / f"{int(minute * 1000 + 50_000)}-{os.getpid()}-1.parquet")


def _batch(rows: int, seed: int, *, bad_charges: int = 0, bad_tenure: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(seed * 10_000, seed * 10_000 + rows),
            "tenure": rng.integers(0, 72, rows),
            "monthly_charges": rng.uniform(20, 110, rows).round(2),
            "contract": rng.choice(["month-to-month", "one year", "two year"], rows),
        }
    )
    frame.loc[: bad_charges - 1, "monthly_charges"] = -5.0  # a warn rule: kept, flagged
    frame.loc[: bad_tenure - 1, "tenure"] = 400  # an error rule: the batch is refused
    return frame


def add_validated_batches(store: MetadataStore, home: Path) -> list[str]:
    """Three weekly batches of `churn-feed` validated on their contract: passed, warned (some
    negative charges), failed (impossible tenures, so not registered as a version). Returns
    the fingerprints of the two registered versions, newest first."""
    from loopline.data import (
        ValidationFailedError,
        fingerprint,
        profile,
        schema_of,
        validate_for_run,
    )

    contract = home / "contracts" / f"{DATASET}.yaml"
    contract.parent.mkdir(parents=True, exist_ok=True)
    contract.write_text(CONTRACT)
    artifacts = FsspecArtifactStore(str(home / "artifacts"))
    registered = []
    with acting_as(None):
        for week, frame in enumerate(
            (_batch(400, 1), _batch(420, 2, bad_charges=9), _batch(410, 3, bad_tenure=4))
        ):
            run = store.create_run("churn", f"ingest week {week}", {}, {}, Lineage(user="ci"))
            digest = fingerprint(frame)
            try:
                validate_for_run(frame, contract, DATASET, digest, run.id, store, artifacts)
            except ValidationFailedError:
                store.finish_run(run.id, "failed")
                continue
            record = {
                "fingerprint": digest,
                "name": DATASET,
                "n_rows": len(frame),
                "n_columns": len(frame.columns),
                "schema": schema_of(frame),
                "profile": profile(frame),
                "source": f"s3://feeds/churn/week-{week}.parquet",
            }
            store.record_dataset_use(run.id, record, DATASET, "training")
            store.finish_run(run.id, "finished")
            registered.append(digest)
    return list(reversed(registered))


def add_prompt(store: MetadataStore, home: Path) -> None:
    """`support-reply` v1..v3: each evaluated on one eval set, v2 in production."""
    artifacts = FsspecArtifactStore(str(home / "artifacts"))
    eval_set = hashlib.sha256(b"evals/support.jsonl").hexdigest()
    with acting_as(None):
        for v in (1, 2, 3):
            template = {"model": "llama-3-8b-instruct", "version": v, "messages": []}
            sha, _ = artifacts.put_bytes(json.dumps(template).encode())
            run = store.create_run(
                "llm.prompts",
                f"{PROMPT} v{v}",
                {
                    "prompt": PROMPT,
                    "model": "llama-3-8b-instruct",
                    "variables": "customer,question",
                },
                {"loopline.kind": "prompt"},
                Lineage(user="dana"),
            )
            store.finish_run(run.id, "finished")
            store.create_version(
                PROMPT,
                run_id=run.id,
                artifact_path="prompt",
                sha256=sha,
                flavor="prompt",
                signature=None,
                metrics={},
                git_commit=None,
                created_by="dana",
                card={"intended_use": "answers support questions as JSON"},
            )
            store.record_evaluation(
                PROMPT,
                v,
                dataset_fingerprint=eval_set,
                task="llm",
                metrics={
                    "pass_rate": (0.78, 0.9, 0.86)[v - 1],
                    "n_cases": 50.0,
                    "cost_per_case_usd": 0.0004 * v,
                    "latency_p95_ms": 900.0 + 150 * v,
                    "judge_score_mean": 3.9 + 0.2 * (v == 2),
                },
                slices={},
                recorded_by="ci",
                recorder_role="ci",
            )
            decision = store.record_gate_decision(PROMPT, v, alias="production", decided_by="ci")
            if v == 2:
                store.move_alias(
                    PROMPT,
                    "production",
                    2,
                    actor="carol",
                    action="promote",
                    gate_decision_id=decision.id,
                )


def add_traces(home: Path, n: int = 40) -> None:
    """Requests to `support-reply` v2 (champion) and v3 (challenger) over the last hour:
    a few errors and one blocked, feedback on some."""
    from loopline.llm import Trace, TraceLog

    log = TraceLog(home / "llm")
    now = time.time()
    for i in range(n):
        version = 3 if i % 4 == 0 else 2
        status = "error" if i % 13 == 5 else "blocked" if i == 7 else "ok"
        trace = log.record(
            Trace(
                prompt=PROMPT,
                version=version,
                model="llama-3-8b-instruct",
                tokens_in=180 + 3 * i,
                tokens_out=60 + i,
                cost_usd=0.0002 + 0.00001 * i,
                latency_ms=600.0 + 25 * i,
                status=status,
                error="provider timed out" if status == "error" else None,
                arm="challenger" if version == 3 else "champion",
                guardrail_events=[{"guardrail": "pii", "action": "redact"}] if i == 7 else [],
                ts=now - 3600 + 90 * i,
            )
        )
        if i % 3 == 0:
            log.feedback(
                trace.request_id,
                thumbs="down" if i % 6 == 0 else "up",
                tags=["wrong-policy"] if i % 6 == 0 else [],
                comment="quoted the old refund window" if i == 0 else None,
            )


__all__ = [
    "DATASET",
    "PENDING_MODEL",
    "PROMPT",
    "Pending",
    "add_pending_model",
    "add_prompt",
    "add_traces",
    "add_validated_batches",
]
