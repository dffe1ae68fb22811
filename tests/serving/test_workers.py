"""`loopline serve --workers 2`: two processes share capture safely and `/metrics` reports
the sum over both workers, whichever one answers the scrape."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from loopline.serving import read_capture
from loopline.store import ModelVersion
from tests.serving.conftest import free_port

N = 60


def metric(text: str, name: str, labels: str = "") -> float:
    """The sum of every sample of `name` whose labels contain `labels`."""
    total = 0.0
    for line in text.splitlines():
        m = re.match(rf"{name}(\{{[^}}]*\}})? (\S+)$", line)
        if m and labels in (m.group(1) or ""):
            total += float(m.group(2))
    return total


def wait_until(check: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("timed out")


def started_workers(before: set[Path]) -> set[str]:
    """Process ids of the workers that wrote metrics into the server's new folder."""
    folders = set(Path(tempfile.gettempdir()).glob("loopline-metrics-*")) - before
    return {f.stem.rsplit("_", 1)[-1] for d in folders for f in d.glob("*.db")}


def test_two_workers_capture_every_request_once_and_metrics_add_up(
    production: ModelVersion, home: Path
) -> None:
    before = set(Path(tempfile.gettempdir()).glob("loopline-metrics-*"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "loopline",
            "serve",
            "models:/churn@production",
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        env={k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        # Start-up, not speed, is beside the point here: with torch in the dev venv, loading a
        # skops model imports all of scikit-learn and torch (~6 s of CPU per worker), which
        # took over 30 s with the core tier running on both cores.
        wait_until(
            lambda: httpx.get(f"{url}/v2/health/ready", timeout=2).status_code == 200, timeout=90
        )
        # Ready answers as soon as one worker is up; on a loaded 2-core machine the other
        # can still be loading the model and the first would take every request. Each
        # worker writes its model-info gauge file on start, so wait for two of those.
        wait_until(lambda: len(started_workers(before)) == 2, timeout=60)
        rows = {"dataframe_split": {"columns": ["a", "b"], "data": [[0.1, -0.2], [1.5, 0.3]]}}

        def call(_: int) -> int:
            # a new connection per request, so the kernel spreads them over both workers
            return httpx.post(f"{url}/invocations", json=rows, timeout=10).status_code

        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(call, range(N)))
        assert codes == [200] * N

        def settled() -> bool:
            text = httpx.get(f"{url}/metrics", timeout=5).text
            return (
                metric(text, "loopline_requests_total", 'code="200"') == N
                and metric(text, "loopline_capture_rows_written_total") == 2 * N
            )

        wait_until(settled)
        text = httpx.get(f"{url}/metrics", timeout=5).text
        # every scrape, from either worker, sees the whole count
        for _ in range(6):
            again = httpx.get(f"{url}/metrics", timeout=5).text
            assert metric(again, "loopline_requests_total", 'code="200"') == N
        assert metric(text, "loopline_prediction_rows_total") == 2 * N
        assert metric(text, "loopline_request_latency_seconds_count") == N
        assert metric(text, "loopline_capture_dropped_total") == 0
        assert metric(text, "loopline_model_info", 'version="1"') == 1
    finally:
        os.killpg(server.pid, signal.SIGINT)
        server.wait(30)
    captured = read_capture(home / "capture", "churn")
    assert len(captured) == 2 * N  # every row of every request, once
    assert captured.groupby("request_id").size().eq(2).all()
    assert captured["request_id"].nunique() == N
    writers = {f.name.split("-")[1] for f in (home / "capture" / "churn").glob("*/*.parquet")}
    assert len(writers) == 2, f"one worker took every request: {writers}"
    # the server made its metrics folder and removed it on the way out
    assert set(Path(tempfile.gettempdir()).glob("loopline-metrics-*")) == before
