"""The HTTP layer under the app: every answer, even to bytes that are not HTTP, is JSON.

aiohttp's parser rejects a bad request line, an over-long header or a broken chunk size
before any handler runs, and answers with its own plain-text 400. ``MockRunner`` serves
the app with a request handler whose ``handle_error`` writes the Google error body
instead::

    runner = MockRunner(app, handler_cancellation=True)
    await runner.setup()   # then web.TCPSite(runner, host, port) as usual

Bounds aiohttp enforces while parsing (documented in docs/mock-gemini.md, "Limits"):
request line and each header line at most MAX_LINE_BYTES, at most MAX_HEADERS headers.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage
from aiohttp.web_protocol import RequestHandler, _ErrInfo

from mock_gemini.protocol import JSON_CONTENT_TYPE, ApiError, bad_http_error, status_error

logger = logging.getLogger("mock_gemini")
MAX_LINE_BYTES = 8190  # aiohttp's default, kept: request line, one header line
MAX_HEADERS = 128  # header lines in one request (aiohttp's default, kept)
LINGER_S = 1.0  # after an early answer, unread body bytes are drained this long, then close
_JSON_HEADERS = {"Content-Type": JSON_CONTENT_TYPE}


def wire_error(status: int, message: str | None) -> ApiError:
    """The Google error for a request aiohttp refused (``status``) with ``message``."""
    if status >= 500:
        return status_error(status)
    lines = (message or "").strip().splitlines()  # aiohttp adds the bad bytes and a caret
    return bad_http_error(lines[0] if lines else HTTPStatus(status).phrase)


class JsonErrorRequestHandler(RequestHandler):
    """aiohttp's connection handler, answering wire-level errors with Google JSON bodies."""

    __slots__ = ()  # as RequestHandler: no per-connection __dict__

    def handle_error(
        self,
        request: Any,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """A JSON error answer that closes the connection (the stream may be out of sync)."""
        if status >= 500:
            logger.error("mock_gemini: error handling a request", exc_info=exc)
        else:
            logger.debug("mock_gemini: refused a malformed request: %s", message)
        if request.writer.output_size > 0:  # an answer already started: nothing to add
            raise ConnectionError("an answer was already being sent")
        error = wire_error(status, message)
        response = web.Response(status=error.code, body=error.body_bytes(), headers=_JSON_HEADERS)
        response.force_close()
        return response

    def data_received(self, data: bytes) -> None:
        """Feed the parser; a body that breaks mid-way fails its reader at once.

        aiohttp queues a parser error met inside a body (a bad chunk size) as the next
        message and leaves the handler reading that body waiting for bytes that will
        never come; the handler would answer only at its body timeout.
        """
        request = self._current_request
        if request is None:  # between requests, the usual case: nothing to watch
            RequestHandler.data_received(self, data)  # (not super(): this runs per request)
            return
        queued = len(self._messages)
        RequestHandler.data_received(self, data)
        if len(self._messages) <= queued:
            return
        error = self._messages[-1][0]
        if isinstance(error, _ErrInfo) and not request.content.is_eof():
            self._messages.pop()  # answered by the handler reading the body, then closed
            request.content.set_exception(BadHttpMessage(error.message))
            request.content.feed_eof()
            self.close()


class _JsonErrorServer(web.Server):
    """aiohttp's protocol factory, building JsonErrorRequestHandler connections."""

    def __call__(self) -> RequestHandler:
        return JsonErrorRequestHandler(self, loop=self._loop, **self._kwargs)


class MockRunner(web.AppRunner):
    """``web.AppRunner`` whose connections answer parser-level errors with JSON bodies."""

    def __init__(self, app: web.Application, **kwargs: Any) -> None:
        kwargs.setdefault("max_line_size", MAX_LINE_BYTES)
        kwargs.setdefault("max_field_size", MAX_LINE_BYTES)
        kwargs.setdefault("max_headers", MAX_HEADERS)
        kwargs.setdefault("lingering_time", LINGER_S)
        super().__init__(app, **kwargs)

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # Same server, one method different: aiohttp has no public hook for the handler class.
        server.__class__ = _JsonErrorServer
        return server
