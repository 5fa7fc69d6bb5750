"""Send one prepared :class:`~harness.gemini.HttpRequest`, sync or async; map transport failures.

The only place that touches ``requests`` and ``aiohttp`` for Gemini calls. Error
messages name the failure class and the host, never the URL query or a header,
so no key can leak through them.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
import requests
import urllib3

from harness.errors import ConnectionFailedError, UpstreamTimeoutError
from harness.gemini import HttpRequest

Clock = Callable[[], float]
T = TypeVar("T")


@dataclass(slots=True)  # read-only; slots, not frozen: built once per request
class HttpResponse:
    """A whole answer: status, headers, body, and when its first byte arrived (clock time)."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    first_byte_s: float


@functools.lru_cache(maxsize=64)
def _client_timeout(timeout_s: float) -> aiohttp.ClientTimeout:
    # Immutable, and most runs use one or two timeouts: no object per request. By default
    # aiohttp rounds a deadline more than 5 s away up to a whole second (to batch timer
    # wake-ups); ``ceil_threshold=inf`` keeps it exact, so the attempt timeout is the
    # bound and the policy needs no second timer (``call_async(self_bounded=True)``).
    return aiohttp.ClientTimeout(total=timeout_s, ceil_threshold=math.inf)


@functools.lru_cache(maxsize=64)
def _sync_timeout(timeout_s: float) -> urllib3.Timeout:
    # ``total``: connect, send and the wait for the headers share ``timeout_s`` (urllib3
    # gives the read the time the connect left). urllib3 clones it per request: cacheable.
    return urllib3.Timeout(total=timeout_s)


def _host(url: str) -> str:
    return urlsplit(url).netloc


def _timeout(req: HttpRequest, timeout_s: float) -> UpstreamTimeoutError:
    return UpstreamTimeoutError(f"no answer from {_host(req.url)} within {timeout_s:.3g} s")


def _connection(req: HttpRequest, exc: BaseException) -> ConnectionFailedError:
    return ConnectionFailedError(f"connection to {_host(req.url)} failed: {type(exc).__name__}")


# The failures each library raises for a timeout and for a broken connection. Callers
# catch them in a plain ``except`` (free when nothing fails; a context manager would
# cost an object and a call per request) and re-raise ``_mapped(...) from None``:
# exceptions of requests and aiohttp carry the full URL, and dropping the chain keeps
# nothing but our own message in logs and records.
_SYNC_TIMEOUTS = (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError)
_SYNC_FAILURES = (
    *_SYNC_TIMEOUTS,
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    urllib3.exceptions.HTTPError,  # the body is read from urllib3 directly (_read_body)
    ConnectionError,
)
_ASYNC_TIMEOUTS = (TimeoutError,)
_ASYNC_FAILURES = (TimeoutError, aiohttp.ClientError, ConnectionError)


def _mapped(
    req: HttpRequest, timeout_s: float, exc: BaseException, timeouts: tuple[type, ...]
) -> UpstreamTimeoutError | ConnectionFailedError:
    if isinstance(exc, timeouts):
        return _timeout(req, timeout_s)
    return _connection(req, exc)


def _open_sync(session: requests.Session, req: HttpRequest, timeout_s: float) -> requests.Response:
    # requests hands a urllib3 Timeout to urllib3 unchanged (its stubs only name floats).
    timeout: Any = _sync_timeout(timeout_s)
    return session.request(
        req.method,
        req.url,
        headers=dict(req.headers),
        data=req.body,
        timeout=timeout,
        stream=True,
    )


# Large enough for a whole Gemini answer in one read; read1 returns what one recv gave.
_READ_SIZE = 1 << 16


class _AttemptOver(TimeoutError):
    """The attempt's time ran out while its body was still arriving."""


def _read_body(
    resp: requests.Response, deadline_s: float, clock: Clock | None
) -> list[tuple[float, bytes]]:
    """The whole body, piece by piece, ended at ``deadline_s`` (``time.monotonic``).

    ``requests`` bounds each socket read, not the exchange: a body that trickles in
    would run on. Each read here is one ``recv`` whose socket timeout is the time left,
    so a body still arriving at the deadline raises :class:`_AttemptOver` (a
    ``TimeoutError``). ``clock`` stamps each piece (streams); None stamps 0.0.
    """
    raw: Any = resp.raw
    connection = raw.connection  # None once urllib3 has released it (the body was read)
    sock = connection.sock if connection is not None else None
    pieces: list[tuple[float, bytes]] = []
    while True:
        left_s = deadline_s - time.monotonic()
        if left_s <= 0:
            raise _AttemptOver("the attempt's time ran out while its body was arriving")
        if sock is not None:
            sock.settimeout(left_s)
        data = raw.read1(_READ_SIZE, decode_content=True)
        if not data:
            return pieces
        pieces.append((clock() if clock is not None else 0.0, data))


def _open_async(
    session: aiohttp.ClientSession, req: HttpRequest, timeout_s: float
) -> aiohttp.client._RequestContextManager:
    timeout = _client_timeout(timeout_s)
    return session.request(req.method, req.url, headers=req.headers, data=req.body, timeout=timeout)


def send_sync(
    session: requests.Session, req: HttpRequest, timeout_s: float, clock: Clock
) -> HttpResponse:
    """POST/GET with ``requests``; ``timeout_s`` bounds the whole exchange (connect,
    headers and body), or :class:`UpstreamTimeoutError` is raised."""
    deadline_s = time.monotonic() + timeout_s
    try:
        with _open_sync(session, req, timeout_s) as resp:
            first_byte_s = clock()
            pieces = _read_body(resp, deadline_s, None)
            body = pieces[0][1] if len(pieces) == 1 else b"".join(p for _, p in pieces)
            return HttpResponse(resp.status_code, dict(resp.headers), body, first_byte_s)
    except _SYNC_FAILURES as exc:
        raise _mapped(req, timeout_s, exc, _SYNC_TIMEOUTS) from None


async def send_async(
    session: aiohttp.ClientSession, req: HttpRequest, timeout_s: float, clock: Clock
) -> HttpResponse:
    """The same with ``aiohttp``; ``timeout_s`` bounds the whole exchange."""
    return await send_async_then(session, req, timeout_s, clock=clock, then=_same)


def _same(resp: HttpResponse) -> HttpResponse:
    return resp


async def send_async_then(
    session: aiohttp.ClientSession,
    req: HttpRequest,
    timeout_s: float,
    *,
    clock: Clock,
    then: Callable[[HttpResponse], T],
) -> T:
    """:func:`send_async`, then ``then(response)`` in the same coroutine: one coroutine
    fewer per request on the async design's hot path (``then`` parses the answer)."""
    try:
        async with _open_async(session, req, timeout_s) as resp:
            first_byte_s = clock()
            body = await resp.read()
            response = HttpResponse(resp.status, resp.headers, body, first_byte_s)
    except _ASYNC_FAILURES as exc:
        raise _mapped(req, timeout_s, exc, _ASYNC_TIMEOUTS) from None
    return then(response)


@dataclass(slots=True)  # read-only
class StreamedResponse:
    """A streamed answer: every piece of the body with the clock time it arrived."""

    status: int
    headers: Mapping[str, str]
    pieces: list[tuple[float, bytes]]
    first_byte_s: float

    @property
    def body(self) -> bytes:
        return b"".join(data for _, data in self.pieces)


def send_sync_stream(
    session: requests.Session, req: HttpRequest, timeout_s: float, clock: Clock
) -> StreamedResponse:
    """Like :func:`send_sync`, but the body is read as it arrives, each piece timestamped;
    ``timeout_s`` bounds the whole exchange, stream included."""
    deadline_s = time.monotonic() + timeout_s
    try:
        with _open_sync(session, req, timeout_s) as resp:
            first_byte_s = clock()
            pieces = _read_body(resp, deadline_s, clock)
            headers = dict(resp.headers)
            return StreamedResponse(resp.status_code, headers, pieces, first_byte_s)
    except _SYNC_FAILURES as exc:
        raise _mapped(req, timeout_s, exc, _SYNC_TIMEOUTS) from None


async def send_async_stream(
    session: aiohttp.ClientSession, req: HttpRequest, timeout_s: float, clock: Clock
) -> StreamedResponse:
    """The async twin of :func:`send_sync_stream` (``iter_any``: whatever has arrived)."""
    try:
        async with _open_async(session, req, timeout_s) as resp:
            first_byte_s = clock()
            pieces = [(clock(), data) async for data in resp.content.iter_any()]
            return StreamedResponse(resp.status, resp.headers, pieces, first_byte_s)
    except _ASYNC_FAILURES as exc:
        raise _mapped(req, timeout_s, exc, _ASYNC_TIMEOUTS) from None
