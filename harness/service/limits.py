"""A cap on request bodies: 413 before the service reads more than ``max_body_bytes``.

An ASGI middleware, so it sees the body as the server receives it, chunked or not::

    app = BodyLimit(fastapi_app, max_body_bytes=1 << 20)

A declared ``Content-Length`` over the cap is refused before any of the body is read.
Without one (``Transfer-Encoding: chunked``), the body is read as it arrives and refused
at the chunk that crosses the cap: the service then holds at most the cap plus one
chunk of the server's (uvicorn reads at most 64 KiB at a time). A body within the cap
is handed on unchanged. The 413 closes the connection (``Connection: close``): the rest
of the body is never read.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from harness.service import DEFAULT_MAX_BODY_BYTES


class ClientDisconnected(Exception):
    """The client went away before its body was complete."""


class BodyLimit:
    """ASGI middleware: requests whose body exceeds ``max_body_bytes`` get a JSON 413."""

    def __init__(self, app: ASGIApp, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await self._refuse(scope, receive, send)
            return
        try:
            body = await read_at_most(receive, self.max_body_bytes)
        except ClientDisconnected:
            return  # nobody to answer
        if body is None:
            await self._refuse(scope, receive, send)
            return
        await self.app(scope, replay(body, receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        await too_large(self.max_body_bytes)(scope, receive, send)


def too_large(max_body_bytes: int) -> JSONResponse:
    """The 413 answer: ``{"detail": "request body over the limit of 1048576 bytes"}``."""
    return JSONResponse(
        status_code=413,
        content={"detail": f"request body over the limit of {max_body_bytes} bytes"},
        headers={"Connection": "close"},
    )


def content_length(scope: Scope) -> int | None:
    """The declared ``Content-Length`` in bytes, or None when absent or not a number."""
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


async def read_at_most(receive: Receive, max_bytes: int) -> bytes | None:
    """The whole body if it has at most ``max_bytes`` bytes, else None (reading stops there).

    Each message before the last carries at least one byte, so ``max_bytes + 2`` messages
    bound the loop. Raises :class:`ClientDisconnected` if the client leaves mid-body.
    """
    chunks: list[bytes] = []
    size = 0
    for _ in range(max_bytes + 2):
        message = await receive()
        if message["type"] != "http.request":
            raise ClientDisconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
    return None  # a stream of empty chunks: refuse rather than wait for ever


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` in one message, then whatever ``receive`` gives."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again
