"""Map a failed Gemini answer (status, headers, body) to one of ``harness.errors``.

Pure: no I/O, no clock. The message is Google's own message (never the
request, never the key); ``reason`` is Google's status enum::

    err = error_from_response(429, {}, body)   # RateLimitedError, err.retry_delay_s == 26.4
    # (the longest of RetryInfo "26s", Retry-After and the message's "retry in 26.4s")
    raise err
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from harness.errors import (
    BadKeyError,
    ClientError,
    OverloadedError,
    RateLimitedError,
    ServerError,
    UpstreamError,
)

_RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
_ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h)?\s*$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
# Newer 429 messages end with "Please retry in 38.86s." (the precise wait; RetryInfo's
# retryDelay is the same wait rounded down to whole seconds).
_RETRY_IN_MESSAGE = re.compile(r"retry in (\d+(?:\.\d+)?|\.\d+) ?(ms|s|m|h)?\b", re.IGNORECASE)


def error_from_response(status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError:
    """The exception for a non-200 answer (returned, not raised).

    >>> type(error_from_response(503, {}, b"")).__name__
    'OverloadedError'
    """
    error = _error_object(body)
    message = error.get("message")
    if not isinstance(message, str) or not message:
        message = f"HTTP {status} with no Google error message ({len(body)} bytes of body)"
    reason = error.get("status") if isinstance(error.get("status"), str) else None
    details = [d for d in error.get("details") or () if isinstance(d, Mapping)]
    if status == 429:
        delay_s = rate_limit_delay_s(details, headers, message)
        return RateLimitedError(message, status=status, reason=reason, retry_delay_s=delay_s)
    return _class_for(status, details)(message, status=status, reason=reason)


def _class_for(status: int, details: list[Mapping[str, Any]]) -> type[UpstreamError]:
    if status == 503:
        return OverloadedError
    if status >= 500:
        return ServerError
    if status in (401, 403) or (status == 400 and _has_key_invalid(details)):
        return BadKeyError
    if 400 <= status < 500:
        return ClientError
    return UpstreamError


def _error_object(body: bytes) -> Mapping[str, Any]:
    """``{"error": {...}}`` or its list-wrapped form ``[{"error": {...}}]``; else ``{}``."""
    try:
        decoded = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return {}
    if isinstance(decoded, list) and decoded:
        decoded = decoded[0]
    error = decoded.get("error") if isinstance(decoded, Mapping) else None
    return error if isinstance(error, Mapping) else {}


def _has_key_invalid(details: list[Mapping[str, Any]]) -> bool:
    return any(
        d.get("@type") == _ERROR_INFO and d.get("reason") == "API_KEY_INVALID" for d in details
    )


def rate_limit_delay_s(
    details: list[Mapping[str, Any]], headers: Mapping[str, str], message: str
) -> float | None:
    """Seconds a 429 asks the client to wait: the LONGEST of RetryInfo's ``retryDelay``,
    the ``Retry-After`` header and the message's "retry in …"; None when none says.

    The real API rounds ``retryDelay`` down to whole seconds (``"1s"``) and puts the
    precise wait in the message ("Please retry in 1.4s."): trusting the shorter one
    retries early into another 429 (``/work/shared/gemini-api.md`` §5, §10).

    >>> rate_limit_delay_s([{"@type": _RETRY_INFO, "retryDelay": "1s"}], {}, "retry in 1.4s.")
    1.4
    """
    sources = (_retry_info_delay_s(details), retry_after_s(headers), message_delay_s(message))
    known = [delay_s for delay_s in sources if delay_s is not None]
    return max(known) if known else None


def message_delay_s(message: str) -> float | None:
    """Seconds in a message's "retry in 1.4s" / "retry in 250ms" / "Retry in 2 s"; None
    when the message names no wait.

    >>> message_delay_s("Quota exceeded. Please retry in 26.123456s.")
    26.123456
    """
    match = _RETRY_IN_MESSAGE.search(message)
    if match is None:
        return None
    return parse_retry_delay_s(match.group(1) + (match.group(2) or ""))


def _retry_info_delay_s(details: list[Mapping[str, Any]]) -> float | None:
    for detail in details:
        delay = detail.get("retryDelay")
        if detail.get("@type") == _RETRY_INFO and isinstance(delay, str):
            return parse_retry_delay_s(delay)
    return None


def parse_retry_delay_s(text: str) -> float | None:
    """Seconds in a duration string: ``"26s"``, ``"0.5s"``, ``"1.500s"``, ``"1m"``, ``"120"``.

    Protobuf JSON durations are seconds with an ``s``; minutes, hours,
    milliseconds and a bare number of seconds (``Retry-After``) are accepted
    too. Anything else, or a negative value, gives None.

    >>> parse_retry_delay_s("1.500s")
    1.5
    """
    match = _DURATION.match(text)
    if match is None:
        return None
    value_s = float(match.group(1)) * _UNIT_S[match.group(2)]
    return value_s if math.isfinite(value_s) else None


def retry_after_s(headers: Mapping[str, str]) -> float | None:
    """The ``Retry-After`` header in seconds (delta-seconds, or an HTTP date measured
    against the answer's own ``Date`` header so no clock is needed); None if unusable."""
    lowered = {name.lower(): value for name, value in headers.items()}
    value = lowered.get("retry-after")
    if value is None:
        return None
    seconds = parse_retry_delay_s(value)
    if seconds is not None:
        return seconds
    return _date_delta_s(value, lowered.get("date"))


def _date_delta_s(retry_at: str, sent_at: str | None) -> float | None:
    if sent_at is None:
        return None
    try:
        delta_s = (parsedate_to_datetime(retry_at) - parsedate_to_datetime(sent_at)).total_seconds()
    except (TypeError, ValueError):
        return None
    return max(delta_s, 0.0)
