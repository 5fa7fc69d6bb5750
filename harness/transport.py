"""Send one prepared :class:`~harness.gemini.HttpRequest`, sync or async; map transport failures.

The only place that touches ``requests`` and ``aiohttp`` for Gemini calls. Error
messages name the failure class and the host, never the URL query or a header,
so no key can leak through them.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
import requests

from harness.errors import ConnectionFailedError, UpstreamTimeoutError
from harness.gemini import HttpRequest

Clock = Callable[[], float]


@dataclass(frozen=True)
class HttpResponse:
    """A whole answer: status, headers, body, and when its first byte arrived (clock time)."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    first_byte_s: float


@functools.lru_cache(maxsize=64)
def _client_timeout(timeout_s: float) -> aiohttp.ClientTimeout:
    # Immutable, and most runs use one or two timeouts: no object per request.
    return aiohttp.ClientTimeout(total=timeout_s)


def _host(url: str) -> str:
    return urlsplit(url).netloc


def _timeout(req: HttpRequest, timeout_s: float) -> UpstreamTimeoutError:
    return UpstreamTimeoutError(f"no answer from {_host(req.url)} within {timeout_s:.3g} s")


def _connection(req: HttpRequest, exc: BaseException) -> ConnectionFailedError:
    return ConnectionFailedError(f"connection to {_host(req.url)} failed: {type(exc).__name__}")


# ``from None``: exceptions of requests and aiohttp carry the full URL; dropping the chain
# keeps nothing but our own message in logs and records.
@contextlib.contextmanager
def _sync_errors(req: HttpRequest, timeout_s: float) -> Iterator[None]:
    try:
        yield
    except requests.Timeout:
        raise _timeout(req, timeout_s) from None
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
        raise _connection(req, exc) from None


@contextlib.contextmanager
def _async_errors(req: HttpRequest, timeout_s: float) -> Iterator[None]:
    # A plain (sync) context manager: it wraps ``async with`` blocks just as well, and costs
    # no extra coroutine on the hot path.
    try:
        yield
    except TimeoutError:
        raise _timeout(req, timeout_s) from None
    except (aiohttp.ClientError, ConnectionError) as exc:
        raise _connection(req, exc) from None


def _open_sync(session: requests.Session, req: HttpRequest, timeout_s: float) -> requests.Response:
    return session.request(
        req.method,
        req.url,
        headers=dict(req.headers),
        data=req.body,
        timeout=(timeout_s, timeout_s),
        stream=True,
    )


def _open_async(
    session: aiohttp.ClientSession, req: HttpRequest, timeout_s: float
) -> aiohttp.client._RequestContextManager:
    timeout = _client_timeout(timeout_s)
    return session.request(req.method, req.url, headers=req.headers, data=req.body, timeout=timeout)


def send_sync(
    session: requests.Session, req: HttpRequest, timeout_s: float, clock: Clock
) -> HttpResponse:
    """POST/GET with ``requests``; ``timeout_s`` bounds connect and each read."""
    with _sync_errors(req, timeout_s), _open_sync(session, req, timeout_s) as resp:
        first_byte_s = clock()
        return HttpResponse(resp.status_code, dict(resp.headers), resp.content, first_byte_s)


async def send_async(
    session: aiohttp.ClientSession, req: HttpRequest, timeout_s: float, clock: Clock
) -> HttpResponse:
    """The same with ``aiohttp``; ``timeout_s`` bounds the whole exchange."""
    with _async_errors(req, timeout_s):
        async with _open_async(session, req, timeout_s) as resp:
            first_byte_s = clock()
            body = await resp.read()
            return HttpResponse(resp.status, resp.headers, body, first_byte_s)


@dataclass(frozen=True)
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
    """Like :func:`send_sync`, but the body is read as it arrives, each piece timestamped."""
    with _sync_errors(req, timeout_s), _open_sync(session, req, timeout_s) as resp:
        first_byte_s = clock()
        # chunk_size=None yields each piece as the socket delivers it (no re-buffering).
        pieces = [(clock(), data) for data in resp.iter_content(chunk_size=None) if data]
        return StreamedResponse(resp.status_code, dict(resp.headers), pieces, first_byte_s)


async def send_async_stream(
    session: aiohttp.ClientSession, req: HttpRequest, timeout_s: float, clock: Clock
) -> StreamedResponse:
    """The async twin of :func:`send_sync_stream` (``iter_any``: whatever has arrived)."""
    with _async_errors(req, timeout_s):
        async with _open_async(session, req, timeout_s) as resp:
            first_byte_s = clock()
            pieces = [(clock(), data) async for data in resp.content.iter_any()]
            return StreamedResponse(resp.status, resp.headers, pieces, first_byte_s)
