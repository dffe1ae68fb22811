"""README.md's tour, run as written (issues 19 and 20).

Every fenced ```bash / ```console / ```python block of README.md runs in order, in a fresh
directory laid out like the repository root after `make demo`: `examples/churn` copied,
`.venv` linked to this checkout's, the demo's input files in `demo-output/`
(examples/churn/tour_files.py, the part of the demo that writes them) and a store holding
what the tour needs from the demo: runs of experiment `churn` and two versions that have held
`churn@production` (the demo's pipeline weeks, trained here without the pipeline to keep the
test near a minute). Shell blocks run in `bash -e -o pipefail` with the venv's `loopline` and
`python` first on PATH; Python blocks run as scripts with the venv's interpreter.

An HTML comment on the line before a block says what the test must do for it:

    <!-- tour: setup ... -->   not run: this fixture does what it says (`make demo`)
    <!-- tour: server -->      its `loopline models serve` / `loopline server` lines are started
                               in the background (until the tour ends) and awaited; the rest
                               of the block runs as usual
    <!-- tour: llm -->         LOOPLINE_LLM_BASE_URL points at the OpenAI-compatible double
                               of tests/llm (a local HTTP server)
    <!-- tour: fails -->       the block must fail with exit code 2 (a user mistake)
    <!-- tour: refused -->     the block must exit 1: a gate refused (the README says why)
    <!-- tour: needs-dot -->   needs Graphviz's `dot`; left out, and said so, when it is missing
    <!-- tour: continues -->   a Python block that continues the Python block just before it

The README's ports 8080 and 8000 become free ports here, so the tour never meets another
process's server.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from loopline.store import open_metadata_store, reset_store_cache
from tests._team_server import free_port
from tests.llm.conftest import LlmServer
from tests.llm.conftest import llm_server as llm_server  # the fixture, used by name

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
LANGS = {"bash": "shell", "console": "shell", "python": "python"}
MARK = re.compile(r"^<!--\s*tour:\s*([a-z-]+)")
SERVER_LINE = re.compile(r"^loopline (models serve|server)\b")
README_PORTS = ("8080", "8000")

# The demo's files (tour_files.py, as `make demo` writes them) and what the tour needs of
# its store: runs of `churn` and two holders of @production (the demo's pipeline weeks 0
# and 1), so step 4 has a champion and a rollback a target. One process: imports cost.
SEED = """
import sys
from pathlib import Path
sys.path.insert(0, "examples/churn")
import loopline as ll
import steps
import tour_files

tour_files.write_tour_files(Path("demo-output"), tour_files.load_feed())
holdout = steps.holdout(42)
for week in (0, 1):
    batch = steps.week_batch(week, 1200, 42)
    trained = steps.train(batch, 0.5)
    with ll.start_run(experiment="churn", params={"week": week, "C": 0.5}, seed=42) as run:
        run.log_dataset(batch, name="train", role="training")
        run.log_metrics(steps.evaluate(trained["model"], holdout))
        info = run.log_model(trained["model"], signature=trained["signature"])
    version = ll.register_model(info, "churn")
    assert ll.promote("churn", version.version, "production").promoted
"""


@dataclass
class Snippet:
    lang: str  # "shell" or "python"
    code: str
    mark: str | None
    line: int  # where the block starts in README.md

    def where(self) -> str:
        return f"README.md:{self.line} ({self.mark or 'plain'} {self.lang} block)"


def readme_snippets(text: str) -> list[Snippet]:
    """The runnable blocks in order, each with the tour mark on the line before it."""
    found: list[Snippet] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opening = re.match(r"^```(\w*)\s*$", lines[i])
        if not opening:
            i += 1
            continue
        end = lines.index("```", i + 1)
        before = next((x for x in reversed(lines[:i]) if x.strip()), "")
        mark = MARK.match(before)
        if opening.group(1) in LANGS:
            code = "\n".join(lines[i + 1 : end]) + "\n"
            if opening.group(1) == "console":  # `$ command` lines; the rest is output
                code = "".join(x[2:] + "\n" for x in lines[i + 1 : end] if x.startswith("$ "))
            found.append(Snippet(LANGS[opening.group(1)], code, mark and mark.group(1), i + 1))
        i = end + 1
    return _merge_continued(found)


def _merge_continued(snippets: list[Snippet]) -> list[Snippet]:
    merged: list[Snippet] = []
    for s in snippets:
        if s.mark == "continues":
            assert merged and merged[-1].lang == s.lang == "python", (
                f"{s.where()}: `continues` must follow a Python block directly"
            )
            merged[-1] = Snippet(
                "python", merged[-1].code + s.code, merged[-1].mark, merged[-1].line
            )
        else:
            merged.append(s)
    return merged


def _shell_commands(code: str) -> list[str]:
    """One string per command: backslash continuations joined, comments and blanks dropped."""
    joined = re.sub(r"\\\n\s*", " ", code)
    return [x for x in joined.splitlines() if x.strip() and not x.lstrip().startswith("#")]


class Tour:
    """Runs snippets in `work` and owns the servers they start."""

    def __init__(self, work: Path, env: dict[str, str]) -> None:
        self.work, self.env = work, env
        self.servers: list[subprocess.Popen[bytes]] = []
        self.ports = {p: str(free_port()) for p in README_PORTS}

    def localize(self, code: str) -> str:
        for readme_port, port in self.ports.items():
            code = re.sub(rf"\b{readme_port}\b", port, code)
        return code

    def run(self, snippet: Snippet, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        code = self.localize(snippet.code)
        if snippet.lang == "python":
            script = self.work / f"tour_{snippet.line}.py"
            script.write_text(code)
            argv = [sys.executable, script.name]
        else:
            if snippet.mark == "server":
                for command in _shell_commands(code):
                    if SERVER_LINE.match(command):
                        self.start_server(command, snippet)
                code = "\n".join(c for c in _shell_commands(code) if not SERVER_LINE.match(c))
            argv = ["bash", "-e", "-o", "pipefail", "-c", code]
        return subprocess.run(
            argv, cwd=self.work, env=env, capture_output=True, text=True, timeout=600
        )

    def start_server(self, command: str, snippet: Snippet) -> None:
        port = re.search(r"--port (\d+)", command)
        assert port, f"{snippet.where()}: a server line without --port: {command}"
        log = self.work / f"server_{port.group(1)}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                ["bash", "-c", "exec " + command],
                cwd=self.work,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.servers.append(proc)
        path = "/v2/health/ready" if "models serve" in command else "/openapi.json"
        url = f"http://127.0.0.1:{port.group(1)}{path}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert proc.poll() is None, f"{snippet.where()}: {command!r} exited:\n{log.read_text()}"
            try:
                with urllib.request.urlopen(url, timeout=2):
                    return
            except (OSError, urllib.error.HTTPError):
                time.sleep(0.3)
        pytest.fail(f"{snippet.where()}: {command!r} did not answer {url}:\n{log.read_text()}")

    def stop(self) -> None:
        for proc in self.servers:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
        for proc in self.servers:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


@pytest.fixture
def tour(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tour]:
    """The repository root after `make demo`, as far as the tour can tell."""
    work = Path.cwd()
    shutil.copytree(
        ROOT / "examples" / "churn",
        work / "examples" / "churn",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    (work / ".venv").symlink_to(Path(sys.executable).parents[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPLINE_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "120"  # ./.loopline, the default home, is `home` here
    done = subprocess.run(
        [sys.executable, "-c", SEED], cwd=work, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    runner = Tour(work, env)
    try:
        yield runner
    finally:
        runner.stop()
        reset_store_cache()


def test_the_readme_tour_runs_as_written(tour: Tour, request: pytest.FixtureRequest) -> None:
    text = README.read_text()
    work = tour.work
    # The gate the README shows is the one the demo writes.
    assert (work / "demo-output" / "gate.yaml").read_text() in text
    skipped: list[str] = []
    timings: list[str] = []
    for snippet in readme_snippets(text):
        if snippet.mark == "setup":
            continue
        if snippet.mark == "needs-dot" and shutil.which("dot") is None:
            skipped.append(snippet.where())
            continue
        env = dict(tour.env)
        if snippet.mark == "llm":
            double: LlmServer = request.getfixturevalue("llm_server")
            env["LOOPLINE_LLM_BASE_URL"] = double.url
        t0, cpu0 = time.monotonic(), _children_cpu()
        done = tour.run(snippet, env)
        expected = {"fails": 2, "refused": 1}.get(snippet.mark or "", 0)
        assert done.returncode == expected, (
            f"{snippet.where()} exited {done.returncode}, expected {expected}:\n"
            f"{snippet.code}\n--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"
        )
        if snippet.mark == "fails":  # the error contract: one line, no traceback
            last = done.stderr.strip().splitlines()[-1]
            assert last.startswith("error: ") and "Traceback" not in done.stderr, done.stderr
        took, cpu = time.monotonic() - t0, _children_cpu() - cpu0
        timings.append(f"{took:5.1f}s wall {cpu:5.1f}s cpu  {snippet.where()}")
    assert_the_tour_left_its_marks(work)
    print("\n".join(timings))
    if skipped:
        print("left out (no Graphviz `dot`):", ", ".join(skipped))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def assert_the_tour_left_its_marks(work: Path) -> None:
    """What the tour's commands say they do, read back from the files and the store."""
    bad = pd.read_parquet(work / "demo-output" / "bad.parquet")
    assert len(bad) == 12 and bad["_reasons"].str.contains("tenure").all()
    assert list((work / ".github" / "workflows").glob("*.yml"))
    assert len(pd.read_csv(work / "demo-output" / "outcomes.csv")) == 200
    reset_store_cache()
    store = open_metadata_store()
    moves = [(m.action, m.to_version) for m in store.alias_history("churn", "production")]
    assert [a for a, _ in moves].count("rollback") == 2  # step 4: back, and forward again
    # v3: the first of step 1's versions (the seed made v1 and v2); step 7's was refused
    assert store.get_version_by_alias("churn", "production").version == 3
    deployment = max(store.list_deployments("churn"), key=lambda d: d.id)
    assert deployment.status == "rolled_back"  # step 5: the canary, rolled back by hand
    prompt = store.get_version_by_alias("support-reply", "production")
    assert prompt.version == 1
