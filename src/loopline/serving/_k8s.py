"""Kubernetes manifests for a scoring server: Deployment, Service, HorizontalPodAutoscaler.

The server is stateless (the model comes from the registry, captured predictions go to the
artifact store, rollout state lives in the metadata store), so replicas scale behind the
Service like any web app. What each replica needs is the team-server configuration
(`LOOPLINE_DB_URL`, `LOOPLINE_ARTIFACTS_URI`, credentials), read from a Secret.

- Deployment: `loopline models serve URI --workers N`, readiness on `/v2/health/ready` (the model
  is loaded and verified), liveness on `/v2/health/live`, CPU/memory requests (the HPA's CPU
  target is a share of the request), Prometheus scrape annotations on the pods.
- Service: ClusterIP on port 80 to the container's port.
- HorizontalPodAutoscaler (autoscaling/v2): CPU utilization, plus requests per second per
  pod when `target_rps` is given (a Pods metric, which needs a metrics adapter such as
  prometheus-adapter exposing `loopline_requests_per_second`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loopline.errors import InvalidInputError
from loopline.registry import parse_model_uri

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
RPS_METRIC = "loopline_requests_per_second"


@dataclass(frozen=True)
class K8sOptions:
    image: str = "ghcr.io/loopline/loopline:latest"
    name: str | None = None  # default: loopline-<model name>
    namespace: str | None = None
    port: int = 8080
    workers: int = 2
    replicas: int = 2
    min_replicas: int = 2
    max_replicas: int = 10
    target_cpu_percent: int = 70
    target_rps: float | None = None  # per pod
    cpu_request: str = "1"
    memory_request: str = "1Gi"
    memory_limit: str = "2Gi"
    secret: str = "loopline"  # holds LOOPLINE_DB_URL, LOOPLINE_ARTIFACTS_URI, credentials


def _name(uri: str, options: K8sOptions) -> str:
    if options.name is not None:
        name = options.name
        if len(name) > 63 or not _DNS_LABEL.fullmatch(name):
            raise InvalidInputError(
                f"--name {name!r} is not a valid Kubernetes name",
                hint="use lowercase letters, digits and '-', at most 63, starting and ending "
                "with a letter or digit",
            )
        return name
    model = parse_model_uri(uri).name
    slug = re.sub(r"[^a-z0-9-]+", "-", model.lower()).strip("-")
    return f"loopline-{slug}"[:63].rstrip("-")


def _check(options: K8sOptions) -> None:
    if not 1 <= options.min_replicas <= options.max_replicas:
        raise InvalidInputError(
            f"min replicas {options.min_replicas} and max replicas {options.max_replicas} "
            "do not make a range",
            hint="need 1 <= --min-replicas <= --max-replicas",
        )
    if not 1 <= options.target_cpu_percent <= 100:
        raise InvalidInputError(
            f"--target-cpu {options.target_cpu_percent} is not a percentage",
            hint="e.g. --target-cpu 70",
        )
    if options.workers < 1 or not 1 <= options.port <= 65535:
        raise InvalidInputError("--workers must be >= 1 and --port 1..65535", hint="")


def manifests(uri: str, options: K8sOptions | None = None) -> dict[str, dict[str, Any]]:
    """file name → manifest, for serving `uri` (models:/name@alias or models:/name/N)."""
    opts = options or K8sOptions()
    _check(opts)
    name = _name(uri, opts)
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "loopline"}
    meta: dict[str, Any] = {"name": name, "labels": labels}
    if opts.namespace:
        meta["namespace"] = opts.namespace
    return {
        "deployment.yaml": _deployment(uri, opts, meta, labels),
        "service.yaml": _service(meta, name),
        "hpa.yaml": _hpa(opts, meta, name),
    }


def _probe(path: str, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    }


def _container(uri: str, opts: K8sOptions) -> dict[str, Any]:
    """`loopline models serve` with its probes, resources and the Secret's configuration."""
    return {
        "name": "server",
        "image": opts.image,
        "args": [
            "loopline",
            "models",
            "serve",
            uri,
            "--host",
            "0.0.0.0",
            "--port",
            str(opts.port),
            "--workers",
            str(opts.workers),
        ],
        "ports": [{"name": "http", "containerPort": opts.port, "protocol": "TCP"}],
        "envFrom": [{"secretRef": {"name": opts.secret}}],
        "readinessProbe": _probe("/v2/health/ready", 5, 3),
        "livenessProbe": _probe("/v2/health/live", 10, 3),
        # a model load (and its sha256 check) can take a while: liveness waits for it
        "startupProbe": _probe("/v2/health/live", 5, 60),
        "resources": {
            "requests": {"cpu": opts.cpu_request, "memory": opts.memory_request},
            "limits": {"memory": opts.memory_limit},
        },
    }


def _deployment(
    uri: str, opts: K8sOptions, meta: dict[str, Any], labels: dict[str, str]
) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta,
        "spec": {
            "replicas": opts.replicas,
            "selector": {"matchLabels": {"app.kubernetes.io/name": meta["name"]}},
            # never below the serving capacity during a rollout: surge first, then drain
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0},
            },
            "template": {
                "metadata": {
                    "labels": labels,
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(opts.port),
                        "prometheus.io/path": "/metrics",
                    },
                },
                "spec": {
                    "terminationGracePeriodSeconds": 30,
                    "containers": [_container(uri, opts)],
                },
            },
        },
    }


def _service(meta: dict[str, Any], name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta,
        "spec": {
            "type": "ClusterIP",
            "selector": {"app.kubernetes.io/name": name},
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def _hpa(opts: K8sOptions, meta: dict[str, Any], name: str) -> dict[str, Any]:
    """CPU utilization, plus requests per second per pod when `target_rps` is given."""
    metrics: list[dict[str, Any]] = [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": opts.target_cpu_percent},
            },
        }
    ]
    if opts.target_rps is not None:
        metrics.append(
            {
                "type": "Pods",
                "pods": {
                    "metric": {"name": RPS_METRIC},
                    "target": {"type": "AverageValue", "averageValue": f"{opts.target_rps:g}"},
                },
            }
        )
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": meta,
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": opts.min_replicas,
            "maxReplicas": opts.max_replicas,
            "metrics": metrics,
        },
    }


def write_manifests(uri: str, folder: Path, options: K8sOptions | None = None) -> list[Path]:
    """Write the manifests into `folder` (created if missing); returns the files."""
    import yaml

    docs = manifests(uri, options)
    if folder.exists() and not folder.is_dir():
        raise InvalidInputError(f"--emit {folder} is a file", hint="name a folder")
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for file, doc in docs.items():
        path = folder / file
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        out.append(path)
    return out


__all__ = ["RPS_METRIC", "K8sOptions", "manifests", "write_manifests"]
