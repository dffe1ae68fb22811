"""What an alert tells its reader to do, per rule. `{uri}`, `{model}` and `{features}` are
filled in; the text is stored with the alert and sent with every notification."""

from __future__ import annotations

RUNBOOKS: dict[str, str] = {
    "data_drift": (
        "1. Look: `loopline monitors report {uri} --html drift.html` shows reference vs current "
        "histograms of {features}.\n"
        "2. Find the cause: the change named above (deployment, promotion or dataset) and any "
        "upstream source, schema or feature-pipeline change at that time "
        "(`loopline audit export`).\n"
        "3. Broken input (a bug upstream): fix the pipeline; the alert resolves itself once a "
        "window is back within thresholds.\n"
        "4. Real change in the world: check labelled performance "
        "(`loopline monitors performance {uri}`), retrain on recent data (see "
        "`loopline monitors retrains`) and promote through the gate.\n"
        "5. Expected and harmless: raise this feature's threshold in the monitor "
        "(`loopline monitors run {uri} --threshold FEATURE=WARN,ALERT`)."
    ),
    "sudden_change": (
        "1. The latest window differs sharply from the one before it in {features}: look for "
        "an outage, a partial batch, a new client or traffic source, or a deployment then.\n"
        "2. `loopline monitors report {uri} --html drift.html` shows the windows side by side.\n"
        "3. If a deployment caused it, roll back: `loopline models rollback {model}`."
    ),
    "output_drift": (
        "1. The distribution of {model}'s predictions moved away from its first window in "
        "production. Check input drift first (same report).\n"
        "2. If inputs are stable, the model or its features changed: compare versions "
        "(`loopline models show {model}`) and roll back if a new version caused it "
        "(`loopline models rollback {model}`).\n"
        "3. Confirm with labels as they arrive: `loopline monitors performance {uri}`."
    ),
    "performance": (
        "1. Labelled performance of {model} fell below its minimum ({features}).\n"
        "2. If a promotion preceded the drop, roll back: `loopline models rollback {model}`.\n"
        "3. Otherwise the world changed: retrain on recent labelled data (a retrain request is "
        "recorded when the policy allows: `loopline monitors retrains`), gate, promote.\n"
        "4. Check slices (`loopline monitors performance {uri} --slice COLUMN`) for a segment "
        "that broke."
    ),
    "null_rate": (
        "1. More rows of {features} arrive without a value than in training: look for a "
        "failing upstream source, a join that stopped matching, or a schema change that "
        "renamed the field (`loopline audit export` around the window's start).\n"
        "2. `loopline monitors report {uri} --html drift.html` shows the null rate per window.\n"
        "3. If the model imputes nulls, check labelled performance "
        "(`loopline monitors performance {uri}`); if not, its predictions are degraded now.\n"
        "4. Expected (a field made optional): raise its threshold "
        "(`--threshold FEATURE=null_rate:WARN,ALERT`) and retrain on data with the new rate."
    ),
    "all_null": (
        "1. {features} arrives with no value at all: an upstream field was dropped, renamed "
        "or broke. This is a pipeline fault, not drift.\n"
        "2. Find the change: the deployment, promotion or dataset named above and any "
        "feature-pipeline release at that time (`loopline audit export`).\n"
        "3. Fix the source or roll back the change (`loopline models rollback {model}` if a "
        "new version expects a renamed field); do not retrain on these rows."
    ),
    "constant": (
        "1. {features} holds one value in every row of the window, though it varied in "
        "training: usually a default filled in by a broken join or a stuck upstream job.\n"
        "2. Check the feature pipeline and the change named above; do not retrain on these "
        "rows.\n"
        "3. `loopline monitors report {uri} --html drift.html` shows the histograms."
    ),
    "vanished_column": (
        "1. {features}, an input of {model}, is missing from the monitored rows: the caller "
        "or the batch job stopped sending it.\n"
        "2. Fix the caller (or roll back the change named above); the model cannot score "
        "these rows as trained."
    ),
    "new_column": (
        "1. The monitored rows carry {features}, which neither the signature nor the "
        "training data knows. The model ignores it; it may be a renamed input (check for a "
        "vanished column alert at the same time) or a new field upstream.\n"
        "2. If it is a rename, fix the caller; if it is useful, add it to the next training "
        "set."
    ),
    "slo.latency": (
        "1. p95 latency is over budget: check `/metrics` (loopline_request_latency_seconds) "
        "and the host's CPU and memory.\n"
        "2. A new version slower than the last? Roll back: `loopline models rollback {model}`.\n"
        "3. Saturated? Add workers (`loopline models serve {uri} --workers N`) or replicas.\n"
        "4. Feature fetch slow? Check the feature source's latency."
    ),
    "slo.error_rate": (
        "1. Too many requests fail: `/metrics` (loopline_requests by code) tells client "
        "errors (4xx: callers sending bad payloads, often a schema change upstream) from "
        "server errors (5xx: the model itself).\n"
        "2. 5xx after a deployment: roll back (`loopline models rollback {model}`).\n"
        "3. 4xx: the error body names the field and row; fix the caller or the signature."
    ),
}


def runbook(rule: str, *, uri: str, model: str, features: str = "") -> str:
    text = RUNBOOKS.get(rule, "See docs/monitoring.md for this rule.")
    return text.format(uri=uri, model=model, features=features or "the flagged features")


__all__ = ["RUNBOOKS", "runbook"]
