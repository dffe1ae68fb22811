"""`loopline serve URI`."""

from __future__ import annotations

from typing import Annotated

import typer

from loopline.cli._output import console


def serve(
    uri: Annotated[str, typer.Argument(help="models:/name@alias or models:/name/N")],
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8080,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes")] = 1,
    capture: Annotated[bool, typer.Option(help="Capture predictions for monitoring")] = True,
) -> None:
    """Serve a registered model over HTTP (MLflow /invocations, OIP v2, /metrics)."""
    from loopline.serving import serve as run

    console.print(f"serving {uri} on http://{host}:{port} ({workers} worker(s)); Ctrl-C stops")
    run(uri, host=host, port=port, workers=workers, capture=capture)
