"""`loopline models serve` says it serves only once it can, and names a wrong model clearly."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx

from loopline.store import ModelVersion
from tests.conftest import run_cli
from tests.serving.conftest import free_port


def test_wrong_model_name_is_one_line_with_did_you_mean(production: ModelVersion) -> None:
    p = run_cli("models", "serve", "models:/chrun@production", "--port", str(free_port()))
    assert p.returncode == 2, p.stderr
    assert "serving" not in p.stdout, p.stdout  # no promise of a server that never starts
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in p.stderr, p.stderr
    assert "'chrun'" in lines[0] and "did you mean 'churn'" in lines[0], lines[0]


def test_wrong_model_name_lists_the_registered_models(production: ModelVersion) -> None:
    p = run_cli("models", "serve", "models:/zzzz@production", "--port", str(free_port()))
    assert p.returncode == 2 and "serving" not in p.stdout, p.stdout
    assert "'zzzz'" in p.stderr and "registered models: churn" in p.stderr, p.stderr


def test_wrong_alias_prints_no_serving_line(production: ModelVersion) -> None:
    p = run_cli("models", "serve", "models:/churn@staging", "--port", str(free_port()))
    assert p.returncode == 2 and "serving" not in p.stdout, p.stdout
    assert "no alias 'staging'" in p.stderr, p.stderr
    assert "churn has aliases: production; promote a version first" in p.stderr, p.stderr


def test_an_alias_typo_gets_did_you_mean_not_an_invitation_to_create_it(
    production: ModelVersion,
) -> None:
    """Finding (tryout): `serve models:/churn@prodution` said "promote a version first:
    loopline models promote churn N --to prodution", i.e. create the misspelled alias."""
    p = run_cli("models", "serve", "models:/churn@prodution", "--port", str(free_port()))
    assert p.returncode == 2 and "serving" not in p.stdout, p.stdout
    assert "no alias 'prodution'" in p.stderr and "did you mean 'production'?" in p.stderr
    assert "--to prodution" not in p.stderr, p.stderr


def test_serving_line_comes_once_the_model_is_loaded(production: ModelVersion) -> None:
    port = free_port()
    args = ["models", "serve", "models:/churn@production", "--port", str(port), "--no-capture"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "loopline", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("serving models:/churn@production (version 1)"), first
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ping", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise AssertionError("the server did not answer /ping")
    finally:
        proc.terminate()
        proc.wait(10)
