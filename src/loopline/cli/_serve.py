"""`loopline models serve URI` (it was `loopline serve URI`). Registered in _models.py."""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from loopline.cli._output import console
from loopline.errors import NotFoundError

if TYPE_CHECKING:
    from loopline.store import ModelVersion

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
    from loopline.serving import build_app, check_port, load_served, serving_tokens
    from loopline.serving import serve as run

    # The options become settings, so that every worker process reads the same values.
    if batch_max_size is not None:
        os.environ["LOOPLINE_SERVE_BATCH_MAX_SIZE"] = str(batch_max_size)
    if batch_max_latency_ms is not None:
        os.environ["LOOPLINE_SERVE_BATCH_MAX_LATENCY_MS"] = str(batch_max_latency_ms)
    tokens = serving_tokens(token_file)  # a bad file: one line and exit 2, before anything
    version = _resolve(uri)  # a wrong name or alias: one line, before any promise to serve
    check_port(host, port)
    # Load before saying "serving": a model that cannot load must not look like a server.
    app = build_app(uri, capture=capture, token_file=token_file) if workers == 1 else None
    if app is None:
        load_served(uri)  # the workers load their own; this proves they can, before forking
    auth = f", {len(tokens)} bearer token(s)" if tokens else ""
    _say(
        f"serving {uri} (version {version.version}) on http://{host}:{port} "
        f"({workers} worker(s){auth}); Ctrl-C stops"
    )
    if not tokens and host not in _LOOPBACK:
        _say(
            f"warning: no --token-file: anyone who can reach {host}:{port} can score and read "
            "/metrics; set --token-file or LOOPLINE_SERVE_TOKEN_FILE"
        )
    settings = load_settings()
    _say(f"at most {settings.serve_max_rows} rows per request (LOOPLINE_SERVE_MAX_ROWS)")
    if settings.serve_batch_max_size > 0:
        _say(
            f"micro-batching: up to {settings.serve_batch_max_size} rows per predict call, "
            f"503 after {settings.serve_batch_max_latency_ms:g} ms in the queue"
        )
    if app is not None:
        import uvicorn

        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
        return
    run(uri, host=host, port=port, workers=workers, capture=capture, token_file=token_file)


def _say(line: str) -> None:
    # soft_wrap: a line a script greps for stays one line in a narrow terminal or a pipe
    console.print(line, soft_wrap=True, highlight=False)


def _resolve(uri: str) -> ModelVersion:
    """The version `uri` points at; a model name that does not exist names the ones that
    do (and the nearest, when one is close)."""
    from loopline.registry import get_version, parse_model_uri
    from loopline.store import open_metadata_store

    try:
        return get_version(uri)
    except NotFoundError:
        name = parse_model_uri(uri).name
        names = [m.name for m in open_metadata_store().list_models()]
        if name in names:
            raise  # the model exists: the store's message (alias, version) is the right one
    near = difflib.get_close_matches(name, names, n=1)
    listed = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
    guess = f"did you mean {near[0]!r}? " if near else ""
    hint = (
        f"{guess}registered models: {listed}"
        if names
        else "no model is registered in this store yet: register one with ll.register_model"
    )
    raise NotFoundError(f"registered model {name!r} does not exist", hint=hint) from None
