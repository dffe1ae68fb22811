"""`loopline serve URI`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from loopline.cli._output import console

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def serve(
    uri: Annotated[str, typer.Argument(help="models:/name@alias or models:/name/N")],
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8080,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes")] = 1,
    capture: Annotated[bool, typer.Option(help="Capture predictions for monitoring")] = True,
    token_file: Annotated[
        Path | None,
        typer.Option(
            "--token-file",
            help="File of bearer tokens, one per line; every route but the health checks "
            "then needs 'Authorization: Bearer <token>' (setting LOOPLINE_SERVE_TOKEN_FILE)",
        ),
    ] = None,
) -> None:
    """Serve a registered model over HTTP (MLflow /invocations, OIP v2, /metrics)."""
    from loopline.config import load_settings
    from loopline.serving import serve as run
    from loopline.serving._server import serving_tokens

    tokens = serving_tokens(token_file)  # a bad file: one line and exit 2, before anything
    auth = f", {len(tokens)} bearer token(s)" if tokens else ""
    console.print(
        f"serving {uri} on http://{host}:{port} ({workers} worker(s){auth}); Ctrl-C stops"
    )
    if not tokens and host not in _LOOPBACK:
        console.print(
            f"warning: no --token-file: anyone who can reach {host}:{port} can score and read "
            "/metrics; set --token-file or LOOPLINE_SERVE_TOKEN_FILE"
        )
    max_rows = load_settings().serve_max_rows
    console.print(f"at most {max_rows} rows per request (LOOPLINE_SERVE_MAX_ROWS)")
    run(uri, host=host, port=port, workers=workers, capture=capture, token_file=token_file)
