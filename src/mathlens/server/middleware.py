"""ASGI middleware: request body limits (413) and response counters.

The body limit is enforced while the body streams in, so an oversized upload is refused without
being held in memory: at once when Content-Length says so, or as soon as the streamed bytes pass
the limit (a chunked upload).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]
ASGIApp = Callable[[Scope, Receive, Send], Any]


class BodyTooLargeError(Exception):
    """Raised from `receive` when a streamed body passes its limit; the app answers 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body too large (limit {limit:,} bytes)")
        self.limit = limit


class BodyLimitMiddleware:
    """Caps each request body at `limit_for_path(path)` bytes (None: no cap)."""

    def __init__(self, app: ASGIApp, limit_for_path: Callable[[str], int | None]) -> None:
        self.app = app
        self.limit_for_path = limit_for_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limit_for_path(scope["path"]) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            logger.info("refused a %d-byte body for %s (limit %d)", declared, scope["path"], limit)
            await send_json(send, 413, {"detail": str(BodyTooLargeError(limit))})
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message: Message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError(limit)
            return message

        await self.app(scope, limited_receive, send)


@dataclass
class ResponseCounts:
    """Answers of the recognize endpoints, read by /health and /v1/stats."""

    num_requests: int = 0
    num_errors: int = 0
    num_timeouts: int = 0
    started: float = field(default_factory=time.monotonic)


class CountResponsesMiddleware:
    """Counts answers to paths under `prefix` by status, whichever layer produced them."""

    def __init__(self, app: ASGIApp, counts: ResponseCounts, prefix: str) -> None:
        self.app = app
        self.counts = counts
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.counts.num_requests += 1
                self.counts.num_errors += message["status"] >= 400
                self.counts.num_timeouts += message["status"] == 504
            await send(message)

        await self.app(scope, receive, counting_send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def send_json(send: Send, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
