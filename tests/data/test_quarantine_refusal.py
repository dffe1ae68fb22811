"""`--quarantine FILE` with a contract that sets no row aside is refused, naming the rules
that failed, instead of writing an empty file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loopline.data import infer_contract, validate
from loopline.data._quarantine import check_quarantine
from loopline.errors import InvalidInputError


def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    good = pd.DataFrame({"age": rng.integers(18, 80, 200), "plan": rng.choice(["a", "b"], 200)})
    bad = good.copy()
    bad.loc[:4, "age"] = -5
    bad.loc[5:7, "plan"] = "zzz"
    return good, bad


def test_an_inferred_contract_is_refused_with_the_failing_rules(tmp_path: Path) -> None:
    good, bad = frames()
    report = validate(bad, infer_contract(good, name="good"))
    target = tmp_path / "bad.parquet"
    with pytest.raises(InvalidInputError) as exc:
        check_quarantine(report, target)
    line = exc.value.one_line()
    assert "no rule of contract 'good' has severity 'quarantine'" in line, line
    assert "age.range (5 rows, error)" in line and "plan.allowed (3 rows, error)" in line, line
    assert "severity: {range: quarantine}" in line, line
    assert not target.exists()


def test_a_contract_with_quarantine_rules_writes_the_failing_rows(tmp_path: Path) -> None:
    good, bad = frames()
    contract = infer_contract(good, name="good").with_severity("quarantine")
    report = validate(bad, contract)
    target = tmp_path / "bad.parquet"
    check_quarantine(report, target)  # accepted
    written = pd.read_parquet(report.write_quarantine(bad, target))
    assert sorted(written["_row"]) == list(range(8))


def test_the_cli_refuses_and_writes_nothing(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    good, bad = frames()
    good.to_csv(tmp_path / "good.csv", index=False)
    bad.to_csv(tmp_path / "bad.csv", index=False)
    contract = tmp_path / "c.yaml"
    inferred = run_cli("data", "infer-contract", str(tmp_path / "good.csv"), "-o", str(contract))
    assert inferred.returncode == 0, inferred.stderr
    target = tmp_path / "q.parquet"
    bad_csv = str(tmp_path / "bad.csv")
    p = run_cli("data", "validate", bad_csv, "-c", str(contract), "--quarantine", str(target))
    assert p.returncode == 2 and "has severity 'quarantine'" in p.stderr, p.stderr
    assert not target.exists()
