"""`loopline server --local` (it was `loopline ui`): the web UI over the local (embedded)
store, no login."""

from __future__ import annotations

import ipaddress

from loopline.cli._output import console
from loopline.errors import ConfigError

LOCAL_PORT = 8001  # beside a team server on 8000


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run_local_ui(host: str, port: int) -> None:
    """Open the web UI over the local store: the loop at a glance (no login: you own it)."""
    if not _loopback(host):
        # Without a login every visitor would act as the store's owner (rollbacks included).
        raise ConfigError(
            f"loopline server --local has no login, so it only listens on this machine, not {host}",
            hint="share the UI with `loopline server` (tokens and roles) instead",
        )
    import uvicorn

    from loopline.server.ui import create_ui_app
    from loopline.serving._server import check_port

    check_port(host, port)
    app = create_ui_app()
    console.print(f"Loopline UI on http://{host}:{port}/  (the local store; Ctrl-C stops)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
