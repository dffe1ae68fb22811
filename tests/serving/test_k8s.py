"""`loopline deployments k8s --emit DIR`: manifests that the Kubernetes v1.37 JSON schemas
(strict: no unknown fields) accept, with probes on the v2 health routes, scrape annotations
and a CPU (and optionally requests/s) autoscaler. Schemas: tests/fixtures/k8s-schemas/."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from loopline.errors import InvalidInputError
from loopline.serving._k8s import K8sOptions, manifests
from tests.conftest import run_cli

SCHEMAS = Path(__file__).parents[1] / "fixtures" / "k8s-schemas"
SCHEMA_OF = {
    "deployment.yaml": "deployment-apps-v1.json",
    "service.yaml": "service-v1.json",
    "hpa.yaml": "horizontalpodautoscaler-autoscaling-v2.json",
}


def check(path: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema (the dev extra's validator) against the vendored schema."""
    schema = SCHEMAS / SCHEMA_OF[path.name]
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--schemafile", str(schema), str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_emitted_manifests_validate_against_the_kubernetes_schemas(tmp_path: Path) -> None:
    out = tmp_path / "k8s"
    result = run_cli(
        "deployments",
        "k8s",
        "models:/Churn_Model@production",
        "--emit",
        str(out),
        "--image",
        "registry.example/loopline:1.0",
        "--workers",
        "3",
        "--target-rps",
        "400",
        "--namespace",
        "ml",
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["deployment.yaml", "hpa.yaml", "service.yaml"]
    for path in out.iterdir():
        done = check(path)
        assert done.returncode == 0, done.stdout + done.stderr
    dep = yaml.safe_load((out / "deployment.yaml").read_text())
    assert dep["metadata"] == {
        "name": "loopline-churn-model",
        "labels": {
            "app.kubernetes.io/name": "loopline-churn-model",
            "app.kubernetes.io/part-of": "loopline",
        },
        "namespace": "ml",
    }
    pod = dep["spec"]["template"]
    assert pod["metadata"]["annotations"] == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": "8080",
        "prometheus.io/path": "/metrics",
    }
    c = pod["spec"]["containers"][0]
    assert c["args"][:4] == ["loopline", "models", "serve", "models:/Churn_Model@production"]
    assert c["args"][-2:] == ["--workers", "3"]
    assert c["readinessProbe"]["httpGet"] == {"path": "/v2/health/ready", "port": "http"}
    assert c["livenessProbe"]["httpGet"] == {"path": "/v2/health/live", "port": "http"}
    assert c["resources"]["requests"]["cpu"] == "1"  # the HPA's CPU target is a share of it
    hpa = yaml.safe_load((out / "hpa.yaml").read_text())
    assert hpa["spec"]["scaleTargetRef"]["name"] == "loopline-churn-model"
    assert [m["type"] for m in hpa["spec"]["metrics"]] == ["Resource", "Pods"]
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 70
    svc = yaml.safe_load((out / "service.yaml").read_text())
    assert svc["spec"]["selector"] == dep["spec"]["selector"]["matchLabels"]


def test_the_schemas_are_strict_enough_to_catch_mistakes(tmp_path: Path) -> None:
    docs = manifests("models:/churn/3")
    bad = docs["deployment.yaml"]
    bad["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["paht"] = "/x"
    bad["spec"]["replicas"] = "two"
    path = tmp_path / "deployment.yaml"
    path.write_text(json.dumps(bad))
    done = check(path)
    assert done.returncode == 1
    assert "paht" in done.stdout and "'two' is not of type 'integer'" in done.stdout
    hpa = docs["hpa.yaml"]
    del hpa["spec"]["maxReplicas"]  # required
    (tmp_path / "hpa.yaml").write_text(json.dumps(hpa))
    assert check(tmp_path / "hpa.yaml").returncode == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (K8sOptions(name="Bad_Name"), "not a valid Kubernetes name"),
        (K8sOptions(min_replicas=5, max_replicas=2), "do not make a range"),
        (K8sOptions(target_cpu_percent=150), "not a percentage"),
    ],
)
def test_bad_options_are_one_line(options: K8sOptions, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        manifests("models:/churn@production", options)


def test_bad_uri_is_exit_2(tmp_path: Path) -> None:
    result = run_cli("deployments", "k8s", "churn", "--emit", str(tmp_path / "k"))
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
