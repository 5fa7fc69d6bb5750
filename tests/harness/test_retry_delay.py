"""The wait a 429 asks for: the longest of RetryInfo, Retry-After and the message's "retry in".

The real API rounds ``RetryInfo.retryDelay`` down to whole seconds and puts the precise
wait in the message (``/work/shared/gemini-api.md`` §10), so none of the three may be
trusted alone.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from harness.errors import RateLimitedError
from harness.gemini.errors import error_from_response, message_delay_s, rate_limit_delay_s
from harness.resilience.retry import RetryConfig, retry_wait_s

RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"


def retry_info(delay: str) -> dict[str, Any]:
    return {"@type": RETRY_INFO, "retryDelay": delay}


def quota_body(message: str, *details: dict[str, Any]) -> bytes:
    error = {"code": 429, "message": message, "status": "RESOURCE_EXHAUSTED"}
    return json.dumps({"error": {**error, "details": list(details)}}).encode()


@pytest.mark.parametrize(
    ("message", "delay_s"),
    [
        pytest.param("Please retry in 1.4s.", 1.4, id="fraction-of-seconds"),
        pytest.param("Please retry in 26.123456s.", 26.123456, id="micro-precision"),
        pytest.param("You exceeded your quota. retry in 250ms", 0.25, id="milliseconds"),
        pytest.param("Please RETRY IN 38s", 38.0, id="case-insensitive"),
        pytest.param("Please retry in 2 s.", 2.0, id="space-before-unit"),
        pytest.param("Please retry in .5s", 0.5, id="no-leading-zero"),
        pytest.param("Please retry in 1m.", 60.0, id="minutes"),
        pytest.param("Please retry in 3.", 3.0, id="bare-number-is-seconds"),
        pytest.param("Please retry later.", None, id="no-number"),
        pytest.param("", None, id="empty"),
    ],
)
def test_message_delay_forms(message: str, delay_s: float | None) -> None:
    got = message_delay_s(message)
    assert got == (pytest.approx(delay_s) if delay_s is not None else None)


@pytest.mark.parametrize(
    ("details", "headers", "message", "delay_s"),
    [
        pytest.param([retry_info("1s")], {}, "Please retry in 1.4s.", 1.4, id="message-beats-info"),
        pytest.param([retry_info("5s")], {}, "Please retry in 1.4s.", 5.0, id="info-beats-message"),
        pytest.param([], {"Retry-After": "3"}, "retry in 250ms", 3.0, id="header-beats-message"),
        pytest.param(
            [retry_info("1s")], {"retry-after": "2"}, "retry in 1.5s", 2.0, id="header-beats-both"
        ),
        pytest.param([retry_info("26s")], {}, "Quota exceeded.", 26.0, id="info-alone"),
        pytest.param([], {}, "Please retry in 26.4s.", 26.4, id="message-alone"),
        pytest.param([], {"Retry-After": "7"}, "", 7.0, id="header-alone"),
        pytest.param([retry_info("soon")], {"Retry-After": "?"}, "later", None, id="none-usable"),
    ],
)
def test_the_longest_of_three_sources_wins(
    details: list[dict[str, Any]], headers: dict[str, str], message: str, delay_s: float | None
) -> None:
    got = rate_limit_delay_s(details, headers, message)
    assert got == (pytest.approx(delay_s) if delay_s is not None else None)


def test_a_429_with_truncated_retry_info_is_waited_out_in_full() -> None:
    # The shape the user hit: RetryInfo "1s", message "Please retry in 1.4s."
    body = quota_body("Quota exceeded. Please retry in 1.4s.", retry_info("1s"))
    exc = error_from_response(429, {}, body)

    assert isinstance(exc, RateLimitedError)
    assert exc.retry_delay_s == pytest.approx(1.4)
    cfg = RetryConfig(max_attempts=2, base_s=0.01)
    waits = {retry_wait_s(exc, 1, cfg, random.Random(seed)) for seed in range(20)}
    assert min(w for w in waits if w is not None) >= 1.4


def test_without_honour_retry_info_the_backoff_alone_decides() -> None:
    body = quota_body("Please retry in 1.4s.", retry_info("1s"))
    exc = error_from_response(429, {}, body)
    cfg = RetryConfig(max_attempts=2, base_s=0.01, jitter="none", honour_retry_info=False)

    assert retry_wait_s(exc, 1, cfg, random.Random(0)) == pytest.approx(0.01)
