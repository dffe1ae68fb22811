"""The alert-sink seam, re-exported: it lives in `loopline.store` (see `store/_sinks.py`) so
that serving, a lower layer than monitoring, delivers its alerts (an automatic canary
rollback) through the same sinks as drift and SLO alerts."""

from __future__ import annotations

from loopline.store._sinks import (
    AlertSink,
    DeliveryError,
    Notification,
    StoreSink,
    WebhookSink,
    deliver,
    model_sinks,
    redact,
    redeliver,
)

__all__ = [
    "AlertSink",
    "DeliveryError",
    "Notification",
    "StoreSink",
    "WebhookSink",
    "deliver",
    "model_sinks",
    "redact",
    "redeliver",
]
