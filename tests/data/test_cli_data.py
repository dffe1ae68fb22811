"""`loopline data …` as a user runs it: a real subprocess, real files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

import loopline as ll
from tests.conftest import run_cli

CONTRACT = """\
name: orders
columns:
  id: {dtype: int, nullable: false, unique: true}
  amount: {dtype: float, min: 0, severity: {range: quarantine}}
  status: {dtype: string, allowed: [ok, refund]}
strict: true
"""


def files(tmp_path: Path, frame: pd.DataFrame) -> tuple[Path, Path]:
    data, contract = tmp_path / "orders.parquet", tmp_path / "orders.yaml"
    frame.to_parquet(data)
    contract.write_text(CONTRACT)
    return data, contract


def good() -> pd.DataFrame:
    return pd.DataFrame({"id": [1, 2, 3], "amount": [1.0, 2.5, 0.0], "status": ["ok"] * 3})


def test_validate_exit_codes_and_outputs(tmp_path: Path) -> None:
    data, contract = files(tmp_path, good())
    ok = run_cli("data", "validate", str(data), "--contract", str(contract))
    assert ok.returncode == 0, ok.stderr
    assert "passed: 11/11 rules" in ok.stdout and "id.unique" not in ok.stdout  # only counted
    every = run_cli("data", "validate", str(data), "--contract", str(contract), "--all")
    assert every.returncode == 0 and "id.unique" in every.stdout

    bad = good().assign(status=["ok", "lost", "ok"])
    data, contract = files(tmp_path, bad)
    html = tmp_path / "out" / "report.html"
    failed = run_cli("data", "validate", str(data), "-c", str(contract), "--html", str(html))
    assert failed.returncode == 1, failed.stderr
    assert "column 'status' failed rule 'allowed'" in failed.stdout
    assert "<svg" in html.read_text()

    as_json = run_cli("data", "validate", str(data), "-c", str(contract), "--json")
    assert as_json.returncode == 1
    report = json.loads(as_json.stdout)
    assert report["verdict"] == "failed" and report["source"] == str(data)
    status = next(r for r in report["rules"] if r["id"] == "status.allowed")
    assert status["failing_count"] == 1 and status["examples"] == [{"row": 1, "value": "lost"}]


def test_validate_quarantine_writes_bad_rows(tmp_path: Path) -> None:
    data, contract = files(tmp_path, good().assign(amount=[1.0, -3.0, 2.0]))
    out = tmp_path / "quarantine.parquet"
    result = run_cli("data", "validate", str(data), "-c", str(contract), "--quarantine", str(out))
    assert result.returncode == 0, result.stderr
    assert "quarantined:" in result.stdout
    bad = pd.read_parquet(out)
    assert bad["id"].tolist() == [2] and bad["_reasons"].tolist() == ["amount.range"]


def test_usage_errors_exit_2_with_one_line(tmp_path: Path) -> None:
    data, contract = files(tmp_path, good())
    contract.write_text(CONTRACT.replace("unique: true", "uniq: true"))
    result = run_cli("data", "validate", str(data), "-c", str(contract))
    assert result.returncode == 2
    assert f"{contract}:3: unknown key 'uniq'" in result.stderr
    assert "Traceback" not in result.stderr
    fake = tmp_path / "fake.parquet"
    fake.write_text("id,amount\n1,2\n")
    result = run_cli("data", "validate", str(fake), "-c", str(contract))
    assert result.returncode == 2 and "is not a Parquet file" in result.stderr
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    result = run_cli("data", "profile", str(empty))
    assert result.returncode == 2 and "is empty (0 bytes)" in result.stderr


def test_infer_contract_then_validate(tmp_path: Path) -> None:
    data, _ = files(tmp_path, good())
    result = run_cli("data", "infer-contract", str(data))
    assert result.returncode == 0, result.stderr
    written = Path("contracts/orders.yaml")
    assert written.exists() and "wrote contracts/orders.yaml" in result.stdout
    again = run_cli("data", "infer-contract", str(data))
    assert again.returncode == 2 and "already exists" in again.stderr
    to_stdout = run_cli("data", "infer-contract", str(data), "-o", "-")
    assert to_stdout.stdout.startswith("name: orders")
    check = run_cli("data", "validate", str(data), "--contract", str(written))
    assert check.returncode == 0, check.stdout


def test_profile_and_versions(tmp_path: Path) -> None:
    data, _ = files(tmp_path, good())
    profile = run_cli("data", "profile", str(data), "--json")
    assert profile.returncode == 0, profile.stderr
    body = json.loads(profile.stdout)
    assert body["n_rows"] == 3 and body["columns"]["status"]["top"] == {"ok": 3}
    assert "amount" in run_cli("data", "profile", str(data)).stdout

    for rows in (good(), good().iloc[:2], good()):
        with ll.start_run(experiment="cli") as run:
            run.log_dataset(rows, name="orders")
    listing = run_cli("data", "versions", "orders", "--json")
    versions = json.loads(listing.stdout)
    assert [v["n_rows"] for v in versions] == [2, 3]  # the same data twice is one version
    assert len(versions[1]["runs"]) == 2
    assert "No versions of dataset 'nothing'" in run_cli("data", "versions", "nothing").stdout
