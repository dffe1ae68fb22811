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

    def _feedback(self, traces: list[dict[str, Any]], first_day: str = "") -> None:
        """Join each trace's feedback (the latest for its request id), reading the feedback
        days from `first_day` on: feedback is never older than its request."""
        days = [d for d in (self.folder / "feedback").glob("*") if d.name >= first_day]
        feedback: dict[str, dict[str, Any]] = {}
        for fb in sorted(self._lines(f for d in days for f in d.glob("*.jsonl")), key=_ts):
            feedback[fb["request_id"]] = fb
        for t in traces:
            t["feedback"] = feedback.get(t["request_id"])

    def read(self, prompt: str | None = None, since: float | None = None) -> list[dict[str, Any]]:
        """Traces (of `prompt`, newer than `since`), oldest first, with their feedback."""
        base = self.folder / "traces"
        pattern = f"{prompt}/*/*.jsonl" if prompt else "*/*/*.jsonl"
        traces = [t for t in self._lines(base.glob(pattern)) if since is None or t["ts"] >= since]
        self._feedback(traces)
        return sorted(traces, key=_ts)

    def prompts(self, since: float | None = None) -> list[str]:
        """The prompts with traces (from the day of `since` on), from folder names alone."""
        first = self._day(since) if since is not None else ""
        base = self.folder / "traces"
        folders = sorted(p for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
        return [p.name for p in folders if any(d.name >= first for d in p.iterdir())]

    def newest(
        self,
        limit: int,
        *,
        prompt: str | None = None,
        status: str | None = None,
        since: float | None = None,
        before: tuple[float, str] | None = None,
    ) -> list[dict[str, Any]]:
        """Up to `limit` traces, newest first by (ts, request id), below the cursor `before`
        (the last trace of the previous page), with their feedback.

        Day folders are read newest first and reading stops with the day that fills the
        page: a page opens the files of the days it shows, whatever else the log holds."""
        base = self.folder / "traces"
        days: dict[str, list[Path]] = {}
        for name in self.prompts(since):  # a prompt named in a URL is only ever a folder found
            if prompt is None or name == prompt:
                for folder in (base / name).iterdir():
                    days.setdefault(folder.name, []).append(folder)
        first = self._day(since) if since is not None else ""
        last = self._day(before[0]) if before is not None else "9999-12-31"
        found: list[dict[str, Any]] = []
        for day in sorted((d for d in days if first <= d <= last), reverse=True):
            for t in self._lines(f for d in days[day] for f in d.glob("*.jsonl")):
                if since is not None and t["ts"] < since:
                    continue
                if before is not None and _key(t) >= before:
                    continue
                if status is None or t.get("status") == status:
                    found.append(t)
            if len(found) >= limit:
                break
        page = sorted(found, key=_key, reverse=True)[:limit]
        self._feedback(page, min((self._day(t["ts"]) for t in page), default=""))
        return page


def _ts(record: Mapping[str, Any]) -> float:
    return float(record["ts"])


def _key(trace: Mapping[str, Any]) -> tuple[float, str]:
    """A trace's place in time: its timestamp, ties broken by request id."""
    return float(trace["ts"]), str(trace.get("request_id", ""))


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
