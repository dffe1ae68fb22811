"""The web UI: the whole loop at a glance, served by `loopline server` at `/` and by
`loopline server --local` over the embedded store. Server-rendered pages (Jinja2), small vanilla JS,
charts with the vendored Vega-Lite (docs/ui.md says why)."""

from loopline.server.ui._routes import create_ui_app, mount_ui

__all__ = ["create_ui_app", "mount_ui"]
