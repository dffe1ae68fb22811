"""Request tracing: one JSON line per LLM request, feedback joined later by request id.

Layout under the Loopline home: `llm/traces/<prompt>/<YYYY-MM-DD>/<pid>.jsonl` and
`llm/feedback/<YYYY-MM-DD>/<pid>.jsonl`. Each process appends to its own files with one
`write` per line (never interleaved), flushed at once, so a trace survives the process.
A trace holds: request_id, ts, prompt, version, arm, model, tokens_in/out, cost_usd,
latency_ms, status (ok | error | blocked), error, guardrail events, retrieval results.
`summarize` turns traces into the metrics monitoring alerts on.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from loopline.config import load_settings
from loopline.errors import InvalidInputError

THUMBS = ("up", "down")


@dataclass(frozen=True)
class Trace:
    prompt: str
    version: int
    model: str
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    status: str = "ok"
    error: str | None = None
    arm: str = "champion"
    guardrail_events: list[dict[str, Any]] = field(default_factory=list)
    retrieval: list[dict[str, Any]] = field(default_factory=list)
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    ts: float = field(default_factory=time.time)
    meta: dict[str, Any] = field(default_factory=dict)


class TraceLog:
    """Durable, append-only trace and feedback files under `folder`."""

    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = Path(folder) if folder else load_settings().home / "llm"
        self._lock = threading.Lock()

    def _append(self, path: Path, record: Mapping[str, Any]) -> None:
        line = (json.dumps(record, default=str, separators=(",", ":")) + "\n").encode()
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)

    @staticmethod
    def _day(ts: float) -> str:
        return time.strftime("%Y-%m-%d", time.gmtime(ts))

    def record(self, trace: Trace) -> Trace:
        path = self.folder / "traces" / trace.prompt / self._day(trace.ts) / f"{os.getpid()}.jsonl"
        self._append(path, asdict(trace))
        return trace

    def feedback(
        self,
        request_id: str,
        *,
        thumbs: str | None = None,
        tags: Sequence[str] = (),
        comment: str | None = None,
    ) -> dict[str, Any]:
        """Attach a user's verdict to a traced request (later feedback for it wins)."""
        if thumbs is not None and thumbs not in THUMBS:
            raise InvalidInputError(f"thumbs {thumbs!r} is not up or down", hint="pass up or down")
        if thumbs is None and not tags and not comment:
            raise InvalidInputError("empty feedback", hint="give thumbs, tags or a comment")
        now = time.time()
        record = {"request_id": request_id, "ts": now, "thumbs": thumbs,
                  "tags": list(tags), "comment": comment}  # fmt: skip
        path = self.folder / "feedback" / self._day(now) / f"{os.getpid()}.jsonl"
        self._append(path, record)
        return record

    @staticmethod
    def _lines(files: Iterable[Path]) -> list[dict[str, Any]]:
        out = []
        for f in sorted(files):
            for line in f.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    try:
                        out.append(json.loads(line))
                    except json.JSONDecodeError:
                        continue  # a line cut by a crash mid-write: skip it, keep the rest
        return out

    def read(self, prompt: str | None = None, since: float | None = None) -> list[dict[str, Any]]:
        """Traces (of `prompt`, newer than `since`), oldest first, with their feedback."""
        base = self.folder / "traces"
        pattern = f"{prompt}/*/*.jsonl" if prompt else "*/*/*.jsonl"
        traces = [t for t in self._lines(base.glob(pattern)) if since is None or t["ts"] >= since]
        feedback: dict[str, dict[str, Any]] = {}
        for fb in sorted(
            self._lines((self.folder / "feedback").glob("*/*.jsonl")), key=lambda r: r["ts"]
        ):
            feedback[fb["request_id"]] = fb
        for t in traces:
            t["feedback"] = feedback.get(t["request_id"])
        return sorted(traces, key=lambda t: t["ts"])


def summarize(traces: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Metrics over traces: requests, error/blocked/guardrail rates, cost per request,
    tokens, p50/p95 latency, feedback rate and thumbs-up rate among feedback."""
    n = len(traces)
    if n == 0:
        return {"requests": 0.0}
    ok = [t for t in traces if t["status"] == "ok"]
    lat = np.array([t["latency_ms"] for t in ok]) if ok else np.zeros(1)
    rated = [t for t in traces if t.get("feedback") and t["feedback"].get("thumbs")]
    with_feedback = [t for t in traces if t.get("feedback")]
    cost = float(sum(t["cost_usd"] for t in traces))
    out = {
        "requests": float(n),
        "error_rate": sum(t["status"] == "error" for t in traces) / n,
        "blocked_rate": sum(t["status"] == "blocked" for t in traces) / n,
        "guardrail_trigger_rate": sum(bool(t["guardrail_events"]) for t in traces) / n,
        "cost_usd": cost,
        "cost_per_request_usd": cost / n,
        "tokens_in_mean": float(np.mean([t["tokens_in"] for t in traces])),
        "tokens_out_mean": float(np.mean([t["tokens_out"] for t in traces])),
        "latency_p50_ms": float(np.percentile(lat, 50)),
        "latency_p95_ms": float(np.percentile(lat, 95)),
        "feedback_rate": len(with_feedback) / n,
    }
    if rated:
        out["thumbs_up_rate"] = sum(t["feedback"]["thumbs"] == "up" for t in rated) / len(rated)
    return out


__all__ = ["THUMBS", "Trace", "TraceLog", "summarize"]
