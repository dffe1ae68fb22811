"""A real OpenAI-compatible chat-completions server on 127.0.0.1 (a deterministic toy model)
and helpers shared by the LLM tests."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

Reply = tuple[int, dict[str, Any], dict[str, str]]


def toy_model(body: dict[str, Any]) -> str:
    """Deterministic answers: JSON when the system message asks for JSON, a grade when asked
    to grade, prose otherwise. A repair request gets valid JSON."""
    messages = body["messages"]
    system = " ".join(m["content"] for m in messages if m["role"] == "system")
    user = messages[-1]["content"] if messages else ""
    if "grade" in system.lower():
        good = "refund" in user.split("Answer to grade:")[-1].lower()
        return json.dumps(
            {"score": 5 if good else 2, "reason": "mentions refund" if good else "off"}
        )
    if "Reply again with only the corrected JSON" in user:
        return json.dumps({"answer": "fixed", "category": "general"})
    question = re.sub(r"^.*?Question:\s*", "", user, flags=re.S).strip()
    category = "billing" if "refund" in question.lower() else "general"
    if "json" in system.lower():
        return json.dumps({"answer": f"About: {question}", "category": category})
    if "fenced" in system.lower():
        return "```json\n" + json.dumps({"answer": question, "category": category}) + "\n```"
    return f"Sure! Happy to help with: {question}"


@dataclass
class LlmServer:
    url: str  # base URL ending in /v1
    received: list[dict[str, Any]] = field(default_factory=list)
    script: list[Reply] = field(default_factory=list)  # replies served first, in order
    delay_s: float = 0.0
    times: list[float] = field(default_factory=list)
    answer: Callable[[dict[str, Any]], str] = toy_model


def _handler(server: LlmServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            server.times.append(time.monotonic())
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            server.received.append(body)
            if server.delay_s:
                time.sleep(server.delay_s)
            if self.path != "/v1/chat/completions":
                return self._send(404, {"error": {"message": "not found"}}, {})
            if server.script:
                return self._send(*server.script.pop(0))
            text = server.answer(body)
            words_in = sum(len(m["content"].split()) for m in body["messages"])
            self._send(
                200,
                {
                    "id": "chatcmpl-1",
                    "object": "chat.completion",
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {
                        "prompt_tokens": words_in,
                        "completion_tokens": len(text.split()),
                        "total_tokens": words_in + len(text.split()),
                    },
                },
                {},
            )

        def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

    return Handler


@pytest.fixture
def llm_server() -> Iterator[LlmServer]:
    state = LlmServer(url="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


JSON_PROMPT = {
    "messages": [
        {
            "role": "system",
            "content": "You are a support agent. Reply in JSON with answer and category.",
        },
        {"role": "user", "content": "Customer {{customer}}. Question: {{question}}"},
    ],
    "model": "toy-1",
    "params": {"temperature": 0},
}
PROSE_PROMPT = {
    "messages": [
        {"role": "system", "content": "You are a friendly support agent."},
        {"role": "user", "content": "Customer {{customer}}. Question: {{question}}"},
    ],
    "model": "toy-1",
    "params": {"temperature": 0},
}
SCHEMA = {
    "type": "object",
    "required": ["answer", "category"],
    "properties": {"answer": {"type": "string"}, "category": {"enum": ["billing", "general"]}},
}


def support_cases() -> list[dict[str, Any]]:
    questions = [
        ("c1", "Ada", "Can I get a refund for my order?", ["billing"]),
        ("c2", "Bo", "Where is my parcel?", ["shipping"]),
        ("c3", "Cy", "How do I reset my password?", ["account"]),
        ("c4", "Di", "I want a refund, the item broke", ["billing"]),
    ]
    return [
        {"id": cid, "vars": {"customer": who, "question": q}, "tags": tags,
         "checks": [{"type": "json_schema", "schema": SCHEMA}]}
        for cid, who, q, tags in questions
    ]  # fmt: skip


def write_jsonl(path: Any, rows: list[dict[str, Any]]) -> Any:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path
