"""The team server: REST API (`/api/v1`), authentication, rate and size limits."""

from loopline.server._app import create_app, run_server

__all__ = ["create_app", "run_server"]
