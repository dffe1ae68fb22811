"""A real `loopline server` (uvicorn on 127.0.0.1, in a thread) over a test's own store.

Used by tests/server/ directly (a server per test), and by the root conftest when
LL_TEST_REMOTE=1, which runs whole suites in remote mode: every library and CLI call then
crosses HTTP. There one listening server serves the whole session (per xdist worker) and
`TeamServer.serve` puts a fresh app over each test's own home in front of it: booting and
stopping uvicorn cost ~0.35 s a test, the app over a fresh store ~0.13 s.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from loopline.config import Settings, load_settings
from loopline.ops._roles import acting_as
from loopline.server import create_app
from loopline.store import MetadataStore, SqlMetadataStore


def _bootstrap_token(
    store: MetadataStore, user: str, role: str, team: str | None
) -> tuple[str, object]:
    """What an admin does on the server machine: a token straight into the store."""
    import secrets

    from loopline.ops._tokens import PREFIX, token_hash

    secret = PREFIX + secrets.token_urlsafe(32)
    record = store.create_token(
        token_hash=token_hash(secret),
        prefix=secret[:10],
        user=user,
        role=role,
        team=team,
        expires_at=None,
        created_by="test-setup",
    )
    return secret, record


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Switch:
    """The ASGI app uvicorn runs: hands every request to the current app, so a new app can
    take over the same socket between tests."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)  # `server.config.app.state`: the current app's


def _app(settings: Settings) -> FastAPI:
    app = create_app(settings)
    # Only the first app sees uvicorn's lifespan events; a later one must not need them.
    hooks = getattr(app.router, "on_startup", []) + getattr(app.router, "on_shutdown", [])
    assert not hooks, "the team server's app has start-up/shut-down hooks: start it per test"
    return app


@dataclass
class TeamServer:
    url: str
    settings: Settings
    store: MetadataStore  # the server's own store, for setting up tokens
    server: uvicorn.Server
    thread: threading.Thread
    switch: _Switch
    tokens: dict[str, str] = field(default_factory=dict)

    def serve(self, settings: Settings) -> None:
        """From now on serve a fresh app over `settings` (the next test's own home and
        store) on the same socket: new store, artifacts, rate-limit table and tokens, as a
        newly started server would have."""
        self.switch.app = _app(settings)
        self.store.close()
        self.settings, self.store, self.tokens = settings, SqlMetadataStore(settings.db_url), {}

    def token(self, user: str, role: str = "admin", team: str | None = None) -> str:
        """A token for `user` with `role` (made once per user and role)."""
        key = f"{user}:{role}"
        if key not in self.tokens:
            with acting_as(None):
                self.tokens[key], _ = _bootstrap_token(self.store, user, role, team)
        return self.tokens[key]

    def client(self, user: str | None = None, role: str = "admin") -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token(user, role)}"} if user else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.store.close()


def start_team_server(settings: Settings | None = None, **overrides: object) -> TeamServer:
    settings = settings or load_settings()
    if overrides:
        settings = Settings(**{**settings.__dict__, **overrides})  # type: ignore[arg-type]
    switch = _Switch(_app(settings))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(switch, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.005)
    assert server.started, "the team server did not start"
    # An ungoverned store of the server's database: setting up tokens is not a request.
    store = SqlMetadataStore(settings.db_url)
    return TeamServer(f"http://127.0.0.1:{port}", settings, store, server, thread, switch)
