"""Request-path middleware, each a plain ASGI app wrapping another."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from loopline.serving._capture import PredictionCapture


class CaptureMiddleware:
    """Hands what a scoring route left in `request.state.capture` to the capture queue,
    after the response has been sent, so capturing never delays the answer."""

    def __init__(self, app: ASGIApp, capture: PredictionCapture) -> None:
        self.app = app
        self.capture = capture

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        if scope["type"] == "http":
            item = scope.get("state", {}).get("capture")
            if item is not None:
                self.capture.offer(item)


__all__ = ["CaptureMiddleware"]
