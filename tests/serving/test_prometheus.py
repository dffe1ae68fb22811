"""`/metrics` as Prometheus and Grafana see it: a real `loopline serve` (one worker, and two
sharing metrics through files) scraped in both exposition formats, checked by
prometheus_client's parsers and `promtool check metrics`, and the Grafana dashboard's
expressions checked against the names the server really exports."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families

from loopline.store import ModelVersion
from tests.serving.conftest import free_port

DASHBOARD = Path(__file__).parents[2] / "deploy" / "grafana" / "loopline-serving.json"
OPENMETRICS = "application/openmetrics-text; version=1.0.0"
MLFLOW = ("mlflow", "/invocations")
OIP = ("oip", "/v2/models/{name}/infer")
SPLIT = {"dataframe_split": {"columns": ["a", "b"], "data": [[0.1, -0.2], [1.5, 0.3]]}}
TENSORS = {
    "inputs": [
        {"name": "a", "shape": [2], "datatype": "FP64", "data": [0.1, 1.5]},
        {"name": "b", "shape": [2], "datatype": "FP64", "data": [-0.2, 0.3]},
    ]
}


@contextmanager
def serve(workers: int, home: Path) -> Iterator[str]:
    """`loopline serve` in a subprocess on a free port; its base URL once ready. Workers
    share metrics in a folder of this test's own (other tests' servers may run meanwhile)."""
    shared = home.parent / "prometheus-multiproc"
    shared.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = ["serve", "models:/churn@production", "--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(
        [sys.executable, "-m", "loopline", *args],
        env={
            **{k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"},
            # one worker counts in its own process: shared files only for several
            **({"PROMETHEUS_MULTIPROC_DIR": str(shared)} if workers > 1 else {}),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )

    def ready() -> bool:
        if server.poll() is not None:
            err = server.stderr.read() if server.stderr else b""
            raise AssertionError(f"serve exited {server.returncode}: {err!r}")
        return httpx.get(f"{url}/v2/health/ready", timeout=2).status_code == 200

    def started() -> int:  # each worker writes its model-info gauge file on start
        return len({f.stem.rsplit("_", 1)[-1] for f in shared.glob("*.db")})

    try:  # generous: on a loaded 2-core machine a start takes ~10 s, sometimes far more
        wait_until(ready, timeout=120)
        if workers > 1:  # ready answers once one worker is up: wait for every worker
            wait_until(lambda: started() == workers, timeout=120)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGINT)
        server.wait(30)


def wait_until(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("timed out")


def send_traffic(url: str) -> Counter[tuple[str, str, str]]:
    """Good and bad requests on both protocols, each on a new connection (so the kernel
    spreads them over the workers); how many of each (protocol, route, code) were answered."""
    calls = [
        *[("/invocations", SPLIT, MLFLOW)] * 3,
        ("/invocations", {"dataframe_split": {"columns": ["a"], "data": [[1.0]]}}, MLFLOW),
        *[("/v2/models/churn/infer", TENSORS, OIP)] * 2,
        ("/v2/models/churn/infer", {"inputs": [TENSORS["inputs"][0]]}, OIP),
    ]
    seen: Counter[tuple[str, str, str]] = Counter()
    for path, body, (protocol, route) in calls:
        code = httpx.post(f"{url}{path}", json=body, timeout=10).status_code
        seen[(protocol, route, str(code))] += 1
    assert sum(n for (_, _, code), n in seen.items() if code == "200") == 5, seen
    assert sum(n for (_, _, code), n in seen.items() if code.startswith("4")) == 2, seen
    return seen


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Every sample of the text format, by sample name."""
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


def total(found: dict[str, list[tuple[dict[str, str], float]]], name: str) -> float:
    return sum(v for _, v in found.get(name, []))


def check_counts(text: str, seen: Counter[tuple[str, str, str]]) -> None:
    found = samples(text)
    requests = {
        (lb["protocol"], lb["route"], lb["code"]): v
        for lb, v in found["loopline_requests_total"]
        if v
    }
    assert requests == dict(seen)
    assert {lb["arm"] for lb, _ in found["loopline_requests_total"]} == {"champion"}
    latency = {
        (lb["protocol"], lb["route"]): v
        for lb, v in found["loopline_request_latency_seconds_count"]
    }
    assert latency == {MLFLOW: 4, OIP: 3}
    assert total(found, "loopline_prediction_rows_total") == 10  # 5 good requests x 2 rows
    info = [lb for lb, v in found["loopline_model_info"] if v == 1]
    assert [(lb["model"], lb["version"], lb["arm"]) for lb in info] == [("churn", "1", "champion")]
    assert found["loopline_registry_version_mismatch"] == [
        ({"model": "churn", "alias": "production"}, 0.0)
    ]
    assert total(found, "loopline_capture_rows_written_total") == 10
    assert total(found, "loopline_capture_dropped_total") == 0
    assert total(found, "loopline_capture_queue_depth") == 0


def check_promtool(text: str) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        print("promtool not installed (Debian package `prometheus`, `make services`): lint skipped")
        return
    run = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30
    )
    assert run.returncode == 0 and not run.stdout.strip() and not run.stderr.strip(), (
        run.stdout + run.stderr
    )


def check_openmetrics(url: str, seen: Counter[tuple[str, str, str]]) -> None:
    r = httpx.get(f"{url}/metrics", headers={"accept": OPENMETRICS}, timeout=5)
    assert r.headers["content-type"].startswith("application/openmetrics-text; version=1.0.0")
    assert r.text.endswith("# EOF\n")
    families = {f.name: f for f in openmetrics_families(r.text)}  # type: ignore[no-untyped-call]
    assert families["loopline_requests"].type == "counter"
    counted = {
        (s.labels["protocol"], s.labels["route"], s.labels["code"]): s.value
        for s in families["loopline_requests"].samples
        if s.name == "loopline_requests_total"
    }
    assert counted == dict(seen)
    assert families["loopline_capture_dropped"].type == "counter"
    assert families["loopline_capture_rows_written"].type == "counter"
    assert families["loopline_capture_queue_depth"].type == "gauge"
    assert families["loopline_request_latency_seconds"].type == "histogram"
    plain = httpx.get(f"{url}/metrics", headers={"accept": "text/plain"}, timeout=5)
    assert plain.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "# EOF" not in plain.text


def exported_names(text: str) -> set[str]:
    """The series names a PromQL query can use against this exposition."""
    suffixes = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_count", "_sum")}
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names |= {family.name, *(s.name for s in family.samples)}
        names |= {family.name + s for s in suffixes.get(family.type, ())}
    return names


# Words of PromQL that are not series names (functions are told apart by the `(` after them).
_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset"}
_KEYWORDS |= {"and", "or", "unless", "inf", "nan"}


def metric_names(expr: str) -> set[str]:
    """The series names a PromQL expression (or a `label_values(...)` query) reads."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals
    e = re.sub(r"\{[^{}]*\}", "", e)  # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)  # range selectors
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)
    e = re.sub(r"\$\w+", "", e)  # dashboard variables
    e = re.sub(r"label_values\(([^,()]*),[^)]*\)", r"(\1)", e)  # the label argument
    words = re.finditer(r"(?<![\w.])([a-zA-Z_:][\w:]*)\s*(\()?", e)
    return {m[1] for m in words if m[2] is None and m[1].lower() not in _KEYWORDS}


def dashboard_queries() -> list[str]:
    dash = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    variables = [v["query"]["query"] for v in dash["templating"]["list"] if v["type"] == "query"]
    return exprs + variables


def check_dashboard(text: str) -> None:
    exported = exported_names(text)
    for query in dashboard_queries():
        names = metric_names(query)
        assert names, f"no metric found in {query!r}"
        assert names <= exported, f"{sorted(names - exported)} not exported; in {query!r}"


def test_one_worker_metrics_pass_promtool_and_negotiate_openmetrics(
    production: ModelVersion, home: Path
) -> None:
    with serve(1, home) as url:
        seen = send_traffic(url)
        wait_until(
            lambda: (
                "loopline_capture_rows_written_total 10.0"
                in httpx.get(f"{url}/metrics", timeout=5).text
            )
        )
        r = httpx.get(f"{url}/metrics", timeout=5)
        assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
        check_counts(r.text, seen)
        check_promtool(r.text)
        check_openmetrics(url, seen)
        check_dashboard(r.text)


def test_two_workers_metrics_add_up_and_pass_promtool(production: ModelVersion, home: Path) -> None:
    with serve(2, home) as url:
        seen = send_traffic(url)

        def settled() -> bool:
            text = httpx.get(f"{url}/metrics", timeout=5).text
            return total(samples(text), "loopline_capture_rows_written_total") == 10

        wait_until(settled)
        for _ in range(4):  # whichever worker answers, the sums over both
            text = httpx.get(f"{url}/metrics", timeout=5).text
            check_counts(text, seen)
        check_promtool(text)
        check_openmetrics(url, seen)


def test_dashboard_is_grafana_json_on_a_prometheus_variable() -> None:
    dash = json.loads(DASHBOARD.read_text())
    assert dash["schemaVersion"] >= 39 and dash["uid"] == "loopline-serving"
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["type"] == "datasource"
    assert variables["DS_PROMETHEUS"]["query"] == "prometheus"
    panels = [p for p in dash["panels"] if p["type"] != "row"]
    assert len({p["id"] for p in dash["panels"]}) == len(dash["panels"])
    for p in panels:
        assert p["datasource"]["uid"] == "${DS_PROMETHEUS}", p["title"]
        assert p["targets"] and all(t["expr"] for t in p["targets"]), p["title"]
    read = set().union(*(metric_names(q) for q in dashboard_queries()))
    # the panels the dashboard promises: traffic, errors, latency, rows, model, capture
    for name in (
        "loopline_requests_total",
        "loopline_request_latency_seconds_bucket",
        "loopline_prediction_rows_total",
        "loopline_model_info",
        "loopline_registry_version_mismatch",
        "loopline_capture_queue_depth",
        "loopline_capture_dropped_total",
        "loopline_capture_rows_written_total",
    ):
        assert name in read, name
    assert metric_names(
        'histogram_quantile(0.99, sum by (le) (rate(x_bucket{a="{b}"}[5m]))) / on(j) y'
    ) == {"x_bucket", "y"}
