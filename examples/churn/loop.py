"""The rest of the demo's loop, after validation and the first experiments:

pipeline (train → evaluate → register → gate → staging → production) → a worse candidate
refused by the gate → rollback and back → serve → normal then shifted traffic → monitor
(drift alert, once) → retrain trigger → scheduler runs the pipeline again → the gate
decides → lineage of production, DORA, diagram and reports.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

import loopline as ll
from loopline.pipelines import (
    PipelineResult,
    Scheduler,
    load_pipeline,
    publish_dataset,
    render_diagram,
    run_pipeline,
)

HERE = Path(__file__).parent
URI = "models:/churn@production"


def loopline_cli(*args: str, quiet: bool = False) -> None:
    """`loopline ARGS` run in this process: the command and output a shell would give, without
    a second interpreter importing pandas, scikit-learn and the store again (1-5 s each)."""
    from loopline.cli import app

    with contextlib.redirect_stdout(io.StringIO()) if quiet else contextlib.nullcontext():
        app(list(args), prog_name="loopline", standalone_mode=False)


def _promotion_line(result: PipelineResult) -> str:
    if not result.ok:
        failed = [s.name for s in result.steps if s.status == "failed"]
        return f"[red]stopped[/red] at {', '.join(failed)}"
    colour = "green" if result.promotion == "promoted" else "yellow"
    return f"[{colour}]{result.promotion}[/{colour}] — {result.promotion_reason}"


def pipeline_weeks(console: Console) -> None:
    """Week 0 trains the first production model; week 3's labels are half shuffled by a bad
    join, so its candidate is refused by the gate; week 1 is clean and is promoted."""
    spec = load_pipeline(HERE)
    for week, story in ((0, "first model"), (3, "labels half shuffled upstream"), (1, "clean")):
        result = run_pipeline(
            spec, params={"week": week}, trigger="manual", reason=f"demo: week {week} ({story})"
        )
        console.print(f"  week {week} ({story}) → {_promotion_line(result)}", highlight=False)


def rollback_and_back(console: Console) -> None:
    move, seconds = ll.rollback("churn", "production", reason="demo: rehearse the rollback")
    console.print(
        f"  rollback: @production v{move.from_version} → v{move.to_version} "
        f"in {seconds * 1000:.1f} ms"
    )
    move, seconds = ll.rollback("churn", "production", reason="demo: and forward again")
    console.print(
        f"  and back: @production v{move.from_version} → v{move.to_version} "
        f"in {seconds * 1000:.1f} ms"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post(url: str, frame: pd.DataFrame) -> dict[str, Any]:
    body = {
        "dataframe_split": {
            "columns": list(frame.columns),
            "data": json.loads(frame.to_json(orient="values")),
        }
    }
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())  # type: ignore[no-any-return]


def serve_and_replay(console: Console, golden: pd.DataFrame, out: Path) -> None:
    """`loopline models serve` in a subprocess; this month's customers, then next month's, whose
    charges went up by half after a price change (the shift the monitor must catch)."""
    port = _free_port()
    log = (out / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "loopline", "models", "serve", URI, "--port", str(port)],
        stdout=log,
        stderr=log,
        env=os.environ.copy(),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/v2/health/ready", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    why = f"the server did not start; see {out / 'server.log'}"
                    raise SystemExit(why) from None
                time.sleep(0.05)
        features = golden.drop(columns=["churned"])
        t0 = time.perf_counter()
        for i in range(0, 500, 10):
            _post(f"{url}/invocations", features.iloc[i : i + 10])
        shifted = features.iloc[500:1000].assign(
            monthly_charges=lambda d: d.monthly_charges * 1.5,
            total_charges=lambda d: d.total_charges * 1.5,
        )
        for i in range(0, 500, 10):
            _post(f"{url}/invocations", shifted.iloc[i : i + 10])
        took = time.perf_counter() - t0
        console.print(
            f"  served 1,000 customers in 100 requests ({took * 10:.1f} ms per request "
            f"round trip); the second half with monthly charges +50%"
        )
        metrics = urllib.request.urlopen(f"{url}/metrics", timeout=5).read().decode()
        (out / "metrics.txt").write_text(metrics)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(30)
        log.close()


def monitor_and_retrain(console: Console, out: Path) -> None:
    from loopline.monitoring import MonitorConfig, run_monitor

    config = MonitorConfig(retrain={"windows": 1})
    report = run_monitor(URI, config=config)
    drifted = report.drifted()
    console.print(f"  drift against the training data: {drifted or 'none'}", highlight=False)
    for change in report.alerts:
        console.print(
            f"  alert {change.transition}: [{change.alert.severity}] {change.alert.message}",
            highlight=False,
        )
    again = run_monitor(URI)
    fired = [c for c in again.alerts if c.transition == "fired"]
    console.print(f"  monitor run again: {len(fired)} new alert(s) (one open alert per rule)")
    # The report of the windows just judged (what `monitors run --html` writes, without a
    # third monitor run).
    loopline_cli("monitors", "report", URI, "--html", str(out / "monitoring.html"), quiet=True)
    if report.retrain is not None:
        console.print(f"  retrain requested: {report.retrain.reason}", highlight=False)
    # Meanwhile this week's feed arrived, with the new prices: the retrain trains on it.
    from steps import FEED, SOURCE, week_batch

    batch = week_batch(2, 1200, 42)
    batch = batch.assign(
        monthly_charges=batch["monthly_charges"] * 1.5, total_charges=batch["total_charges"] * 1.5
    )
    publish_dataset(batch, FEED, source=f"{SOURCE} week 2, after the price change")
    for result in Scheduler([load_pipeline(HERE)]).tick():
        console.print(
            f"  scheduler: drift trigger ran the pipeline → {_promotion_line(result)}",
            highlight=False,
        )


def summary(console: Console, out: Path) -> None:
    info = ll.lineage(URI)
    table = Table(
        title=f"which data and code made {URI} (v{info['version']})",
        title_justify="left",
        show_header=False,
    )
    table.add_row("run", f"{info['run']['id'][:8]} ({info['run']['experiment']})")
    code = info["code"]
    table.add_row(
        "code",
        f"{code['commit'] or '(not a git checkout)'}"
        + (" + uncommitted changes" if code["dirty"] else ""),
    )
    for d in info["datasets"]:
        table.add_row(f"data: {d['name']}", f"{d['fingerprint'][:16]} ({d['rows']} rows)")
    for m in info["alias_history"][-3:]:
        table.add_row(f"@{m['alias']}: {m['action']}", f"v{m['from']} → v{m['to']} by {m['actor']}")
    console.print(table)
    loopline_cli("reports", "dora", "--since", "30d")
    (out / "pipeline.mmd").write_text(str(render_diagram(load_pipeline(HERE), "mermaid")))
