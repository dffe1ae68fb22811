"""Online serving: MLflow scoring protocol and Open Inference Protocol v2 over one ASGI app,
with request validation, prediction capture, Prometheus metrics and hot swaps."""

from loopline.serving._app import ScoringService
from loopline.serving._capture import PredictionCapture, read_capture
from loopline.serving._codecs import decode_mlflow, encode_mlflow
from loopline.serving._deploy import deploy, finish, rollback_deployment, switch
from loopline.serving._endpoints import create_app
from loopline.serving._health import ArmStats, Slo, canary_violations
from loopline.serving._metrics import ServingMetrics
from loopline.serving._oip import decode_oip
from loopline.serving._oip_out import encode_oip
from loopline.serving._rollout import RolloutFollower, waiting
from loopline.serving._router import Route, SingleRouter, TrafficRouter, bucket
from loopline.serving._routers import BlueGreenRouter, ShadowRouter, SplitRouter, router_for
from loopline.serving._server import (
    ServingRuntime,
    build_app,
    build_service,
    check_port,
    serve,
    serving_tokens,
)
from loopline.serving._slot import AliasWatcher, ModelSlot, Served, load_served

__all__ = [
    "AliasWatcher",
    "ArmStats",
    "BlueGreenRouter",
    "ModelSlot",
    "PredictionCapture",
    "RolloutFollower",
    "Route",
    "ScoringService",
    "Served",
    "ServingMetrics",
    "ServingRuntime",
    "ShadowRouter",
    "SingleRouter",
    "Slo",
    "SplitRouter",
    "TrafficRouter",
    "bucket",
    "build_app",
    "build_service",
    "canary_violations",
    "check_port",
    "create_app",
    "decode_mlflow",
    "decode_oip",
    "deploy",
    "encode_mlflow",
    "encode_oip",
    "finish",
    "load_served",
    "read_capture",
    "rollback_deployment",
    "router_for",
    "serve",
    "serving_tokens",
    "switch",
    "waiting",
]
