"""Map a failed OpenAI-compatible answer (status, headers, body) to one of ``harness.errors``.

Pure: no I/O, no clock. Two error bodies are read: OpenAI's own
``{"error": {"message", "type", "code", "param"}}`` and the Google body (plain or wrapped
in a list) that Gemini's compatible endpoint and mock_gemini send::

    err = error_from_response(429, {"Retry-After": "2"}, body)  # RateLimitedError, 2.0 s
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from harness.errors import (
    BadKeyError,
    ClientError,
    OverloadedError,
    RateLimitedError,
    ServerError,
    UpstreamError,
)
from harness.gemini.errors import parse_retry_delay_s, rate_limit_delay_s

_BAD_KEY_CODES = frozenset({"invalid_api_key", "API_KEY_INVALID"})


def error_from_response(status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError:
    """The exception for a non-200 answer (returned, not raised).

    >>> type(error_from_response(503, {}, b"")).__name__
    'OverloadedError'
    """
    error = error_object(body)
    message = error.get("message")
    if not isinstance(message, str) or not message:
        message = f"HTTP {status} with no error message ({len(body)} bytes of body)"
    reason = _reason(error)
    if status == 429:
        details = [d for d in error.get("details") or () if isinstance(d, Mapping)]
        delay_s = rate_limit_delay_s(details, headers, message)
        delay_ms = _retry_after_ms_s(headers)
        if delay_ms is not None:
            delay_s = max(delay_s or 0.0, delay_ms)
        return RateLimitedError(message, status=status, reason=reason, retry_delay_s=delay_s)
    return _class_for(status, error)(message, status=status, reason=reason)


def error_object(body: bytes) -> Mapping[str, Any]:
    """``{"error": {...}}`` or its list-wrapped form ``[{"error": {...}}]``; else ``{}``."""
    try:
        decoded = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return {}
    if isinstance(decoded, list) and decoded:
        decoded = decoded[0]
    error = decoded.get("error") if isinstance(decoded, Mapping) else None
    return error if isinstance(error, Mapping) else {}


def _reason(error: Mapping[str, Any]) -> str | None:
    """OpenAI's ``code`` (``rate_limit_exceeded``), else its ``type``, else Google's ``status``."""
    for key in ("code", "type", "status"):
        value = error.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _class_for(status: int, error: Mapping[str, Any]) -> type[UpstreamError]:
    if status == 503:
        return OverloadedError
    if status >= 500:
        return ServerError
    if status in (401, 403) or (status == 400 and _bad_key(error)):
        return BadKeyError
    if 400 <= status < 500:
        return ClientError
    return UpstreamError


def _bad_key(error: Mapping[str, Any]) -> bool:
    if error.get("code") in _BAD_KEY_CODES:
        return True
    details = error.get("details") or ()
    return any(isinstance(d, Mapping) and d.get("reason") == "API_KEY_INVALID" for d in details)


def _retry_after_ms_s(headers: Mapping[str, str]) -> float | None:
    """OpenAI's ``retry-after-ms`` header in seconds, when sent."""
    for name, value in headers.items():
        if name.lower() == "retry-after-ms":
            seconds = parse_retry_delay_s(value)
            return seconds / 1000.0 if seconds is not None else None
    return None


def status_of(error: Mapping[str, Any]) -> int:
    """The HTTP status an in-stream error event stands for (500 when it names none)."""
    code = error.get("code")
    if isinstance(code, int) and not isinstance(code, bool) and 400 <= code <= 599:
        return code
    if code == "rate_limit_exceeded" or error.get("type") == "rate_limit_exceeded":
        return 429
    return 500
