"""`loopline serve URI`."""

from __future__ import annotations

import os
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
    batch_max_size: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Adaptive micro-batching: score concurrent requests together, at most this "
            "many rows per predict call (0: off; setting LOOPLINE_SERVE_BATCH_MAX_SIZE)",
        ),
    ] = None,
    batch_max_latency_ms: Annotated[
        float | None,
        typer.Option(
            min=0.1,
            help="With batching: a request that waited longer than this for its batch gets "
            "503 (setting LOOPLINE_SERVE_BATCH_MAX_LATENCY_MS)",
        ),
    ] = None,
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

    # The options become settings, so that every worker process reads the same values.
    if batch_max_size is not None:
        os.environ["LOOPLINE_SERVE_BATCH_MAX_SIZE"] = str(batch_max_size)
    if batch_max_latency_ms is not None:
        os.environ["LOOPLINE_SERVE_BATCH_MAX_LATENCY_MS"] = str(batch_max_latency_ms)
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
    settings = load_settings()
    console.print(f"at most {settings.serve_max_rows} rows per request (LOOPLINE_SERVE_MAX_ROWS)")
    if settings.serve_batch_max_size > 0:
        console.print(
            f"micro-batching: up to {settings.serve_batch_max_size} rows per predict call, "
            f"503 after {settings.serve_batch_max_latency_ms:g} ms in the queue"
        )
    run(uri, host=host, port=port, workers=workers, capture=capture, token_file=token_file)
