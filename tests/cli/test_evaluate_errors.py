"""`loopline models evaluate` on data it cannot use is a user mistake: exit 2 and one line
naming what is wrong (the file, the column), never exit 1 with a scikit-learn traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

import loopline as ll
from loopline.store import ModelVersion
from tests.conftest import run_cli


def _holdout(churn_like: tuple[pd.DataFrame, pd.Series]) -> pd.DataFrame:
    X, y = churn_like
    return pd.concat([X[["a", "b"]], y], axis=1).iloc[600:].reset_index(drop=True)


def _register(model: object, X: pd.DataFrame, y: pd.Series, name: str, signed: bool) -> str:
    with ll.start_run(experiment=name) as run:
        signature = ll.infer_signature(X, y) if signed else None
        info = run.log_model(model, signature=signature)
    return ll.register_model(info, name).uri


def _one_line_exit_2(uri: str, data: Path, *needles: str) -> str:
    p = run_cli("models", "evaluate", uri, "--data", str(data), "--target", "label")
    assert p.returncode == 2, (p.returncode, p.stderr[-2000:])
    assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
    for needle in needles:
        assert needle in p.stderr, (needle, p.stderr)
    return p.stderr


@pytest.fixture
def classifier(train_version: Callable[..., ModelVersion]) -> str:
    return train_version().uri


@pytest.mark.parametrize(
    ("case", "needles"),
    [
        ("no rows", ["has no rows"]),
        ("header only csv", ["has no rows"]),
        ("continuous target", ["target column 'label'", "0.5", "classifier"]),
        ("missing target values", ["target column 'label'", "3 missing", "row 0"]),
    ],
)
def test_a_classifier_on_unusable_data_is_one_line_exit_2(
    classifier: str,
    churn_like: tuple[pd.DataFrame, pd.Series],
    tmp_path: Path,
    case: str,
    needles: list[str],
) -> None:
    df = _holdout(churn_like)
    path = tmp_path / "holdout.parquet"
    if case == "no rows":
        df.iloc[:0].to_parquet(path)
    elif case == "header only csv":
        path = tmp_path / "holdout.csv"
        path.write_text("a,b,label\n")
    elif case == "continuous target":
        df.assign(label=df["label"] + 0.5).to_parquet(path)
    else:
        df.assign(label=df["label"].astype("float64").mask(df.index < 3)).to_parquet(path)
    empty = case in ("no rows", "header only csv")
    _one_line_exit_2(classifier, path, *needles, str(path) if empty else "")


def test_a_regression_on_a_text_target_is_one_line_exit_2(
    churn_like: tuple[pd.DataFrame, pd.Series], tmp_path: Path
) -> None:
    df = _holdout(churn_like)
    uri = _register(LinearRegression().fit(df[["a", "b"]], df["a"] * 2), df[["a", "b"]],
                    df["a"] * 2, "spend", signed=True)  # fmt: skip
    path = tmp_path / "text.parquet"
    df.assign(label=np.where(df["label"] == 1, "Yes", "No")).to_parquet(path)
    _one_line_exit_2(uri, path, "target column 'label'", "'No'", "regression")


def test_a_model_without_signature_that_cannot_score_the_data_is_one_line_exit_2(
    churn_like: tuple[pd.DataFrame, pd.Series], tmp_path: Path
) -> None:
    """No signature, so no column check before predict: the model's own error, one line."""
    df = _holdout(churn_like)
    uri = _register(LogisticRegression().fit(df[["a", "b"]], df["label"]), df[["a", "b"]],
                    df["label"], "unsigned", signed=False)  # fmt: skip
    path = tmp_path / "text.parquet"
    df.assign(a=df["a"].astype(str) + "x").to_parquet(path)
    _one_line_exit_2(uri, path, f"{uri} cannot score", "could not convert string to float")


def test_good_data_still_evaluates(
    classifier: str, churn_like: tuple[pd.DataFrame, pd.Series], tmp_path: Path
) -> None:
    path = tmp_path / "holdout.parquet"
    _holdout(churn_like).to_parquet(path)
    p = run_cli("models", "evaluate", classifier, "--data", str(path), "--target", "label")
    assert p.returncode == 0 and "auc" in p.stdout, p.stderr
