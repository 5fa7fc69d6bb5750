"""Request bodies within bounds: read with a size cap and a deadline, decode with a depth cap.

    chunks = await read_body(request, limit_bytes=20 * 2**20, timeout_s=10.0)
    body = decode_json(joined(chunks))  # ApiError 400: not JSON, or nested over MAX_JSON_DEPTH

Every failure is an ``ApiError`` (400 INVALID_ARGUMENT, or 408 when the body stalls), so
the dispatcher answers it with a Google error body.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from mock_gemini.protocol import (
    bad_http_error,
    body_timeout_error,
    body_too_large_error,
    malformed_json_error,
    nesting_too_deep_error,
)

T = TypeVar("T")
MAX_JSON_DEPTH = 100  # the protobuf JSON parser's recursion limit, which the real API uses
MAX_CONTROL_BODY_BYTES = 64 * 1024  # PUT /_mock/config: settings are a few hundred bytes


async def read_body(request: web.Request, limit_bytes: int, timeout_s: float) -> list[bytes]:
    """The raw body as received, in chunks (not joined: big bodies go to a worker as they are).

    ApiError 400 when over ``limit_bytes`` or not readable (a broken chunked encoding),
    408 when not all there within ``timeout_s`` seconds.
    """
    length = request.content_length
    if length is not None and length > limit_bytes:
        raise body_too_large_error(limit_bytes)
    try:
        if length is not None and request.content.is_eof():  # all here (most bodies): no wait
            body = await request.read()
            if len(body) > limit_bytes:  # a compressed body inflated past its Content-Length
                raise body_too_large_error(limit_bytes)
            return [body]
        async with asyncio.timeout(timeout_s):
            return await _read_counted(request, limit_bytes)
    except TimeoutError:
        raise body_timeout_error(timeout_s) from None
    except HttpProcessingError as exc:  # a broken chunked or compressed encoding
        detail = exc.message.strip().splitlines()[0] if exc.message.strip() else "broken"
        raise bad_http_error(f"the request body could not be read: {detail}") from None


async def _read_counted(request: web.Request, limit_bytes: int) -> list[bytes]:
    # Counted as it comes: a chunked body has no length, a gzip one inflates past its own.
    parts: list[bytes] = []
    size = 0
    async for part in request.content.iter_any():
        size += len(part)
        if size > limit_bytes:
            raise body_too_large_error(limit_bytes)
        parts.append(part)
    return parts


def joined(chunks: list[bytes]) -> bytes:
    """The chunks as one bytes object (no copy for a body that came in one piece)."""
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def decode_json(raw: bytes) -> Any:
    """The decoded JSON body; 400 when it is not JSON or nested deeper than MAX_JSON_DEPTH."""
    try:
        value = json.loads(raw, parse_constant=_no_constants)
    except UnicodeDecodeError:
        raise malformed_json_error("Invalid UTF-8 in the request body.") from None
    except RecursionError:
        raise nesting_too_deep_error(MAX_JSON_DEPTH) from None
    except ValueError as exc:
        raise malformed_json_error(f"Unexpected token at position {_pos(exc)}.") from None
    # Fewer brackets than the limit cannot nest past it: most bodies skip the walk.
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and too_deep(value, MAX_JSON_DEPTH):
        raise nesting_too_deep_error(MAX_JSON_DEPTH)
    return value


def decode_and_parse(raw: bytes, parser: Callable[..., T], *args: Any) -> T:
    """``parser(decode_json(raw), *args)``: one picklable call for a worker process."""
    return parser(decode_json(raw), *args)


def too_deep(value: Any, limit: int) -> bool:
    """Whether arrays/objects in ``value`` nest more than ``limit`` levels (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, dict | list):
            continue
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # Python accepts NaN and Infinity; JSON does not


def _pos(exc: ValueError) -> int:
    return getattr(exc, "pos", 0)
