"""The `loopline prompts` sub-app (it was `loopline llm`), run as a user would, with the CLI's
error contract: through `run_cli` (tests/_cli.py), in this process as a new one would run it
(about 1.5 s of start-up and imports saved per call, 19 calls here)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from tests._cli import run_cli
from tests.llm.conftest import JSON_PROMPT, PROSE_PROMPT, LlmServer, support_cases, write_jsonl


def llm(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli("prompts", *args, env=env)


def test_register_eval_promote_refuse_from_the_shell(llm_server: LlmServer, tmp_path: Path) -> None:
    env = {"LOOPLINE_LLM_BASE_URL": llm_server.url}
    (tmp_path / "v1.yaml").write_text(yaml.safe_dump(JSON_PROMPT))
    (tmp_path / "v2.yaml").write_text(yaml.safe_dump(PROSE_PROMPT))
    (tmp_path / "gate.yaml").write_text("rules:\n  - pass_rate >= champion.pass_rate\n")
    evals = write_jsonl(tmp_path / "support.jsonl", support_cases())
    assert llm("register", "support-reply", str(tmp_path / "v1.yaml")).returncode == 0
    r = llm("evaluate", "prompts:/support-reply/1", "--set", str(evals), "--json", env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["metrics"]["pass_rate"] == 1.0
    ok = llm("promote", "support-reply", "1", "--policy", str(tmp_path / "gate.yaml"))
    assert ok.returncode == 0 and "promoted" in ok.stdout
    assert llm("register", "support-reply", str(tmp_path / "v2.yaml")).returncode == 0
    d = llm("diff", "prompts:/support-reply/1", "prompts:/support-reply/2")
    assert "+You are a friendly support agent." in d.stdout
    refused = llm("promote", "support-reply", "2", "--set", str(evals),
                  "--policy", str(tmp_path / "gate.yaml"), env=env)  # fmt: skip
    assert refused.returncode == 1
    assert "pass_rate >= champion.pass_rate" in refused.stdout and "fail" in refused.stdout
    assert "c1" in refused.stdout and "not valid JSON" in refused.stdout
    shown = llm("show", "prompts:/support-reply@production")
    assert "prompts:/support-reply/1" in shown.stdout and "Reply in JSON" in shown.stdout
    low = llm(
        "evaluate", "prompts:/support-reply/2", "--set", str(evals), "--fail-under", "0.5", env=env
    )
    assert low.returncode == 1 and "failing cases" in low.stdout


def test_user_mistakes_are_one_line_exit_2(tmp_path: Path) -> None:
    r = llm("show", "support-reply")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "prompts:/<name>@<alias>" in r.stderr
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(JSON_PROMPT))
    llm("register", "p", str(tmp_path / "p.yaml"))
    r = llm("evaluate", "prompts:/p/1", "--set", str(tmp_path / "missing.jsonl"))
    assert r.returncode == 2 and "no LLM provider configured" in r.stderr


def test_traces_feedback_and_check(llm_server: LlmServer) -> None:
    from loopline.llm import Trace, TraceLog

    log = TraceLog()
    for i in range(3):
        log.record(Trace(prompt="p", version=1, model="m", cost_usd=0.5, latency_ms=10.0 * (i + 1),
                         request_id=f"r{i}"))  # fmt: skip
    assert llm("feedback", "r0", "--thumbs", "down", "--tag", "rude").returncode == 0
    summary = json.loads(llm("traces", "p", "--json").stdout)
    assert summary["requests"] == 3 and summary["thumbs_up_rate"] == 0.0
    bad = llm("check", "p", "--max-cost-per-request", "0.1", "--min-requests", "2")
    assert bad.returncode == 1 and "ALERT llm_cost" in bad.stdout
    assert llm("feedback", "r0", "--thumbs", "sideways").returncode == 2
