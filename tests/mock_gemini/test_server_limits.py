"""Quotas (honest RetryInfo), schedule windows over time, and the capacity model."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from mock_gemini.app import RunningServer
from mock_gemini.protocol import format_duration, quota_error

StartMock = Callable[..., Awaitable[RunningServer]]
KEY = {"x-goog-api-key": "test-key"}
BODY = {"contents": [{"parts": [{"text": "Ingredients: rice"}]}]}  # 5 prompt tokens
GENERATE = "/v1beta/models/gemini-2.5-flash:generateContent"


async def post(
    http: aiohttp.ClientSession, url: str, key: str = "test-key"
) -> tuple[int, dict[str, Any]]:
    async with http.post(url + GENERATE, json=BODY, headers={"x-goog-api-key": key}) as r:
        return r.status, await r.json()


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        pytest.param(26, "26s", id="whole"),
        pytest.param(0.5, "0.5s", id="half"),
        pytest.param(1.2341, "1.235s", id="rounded-up"),
        pytest.param(0.0, "0s", id="zero"),
    ],
)
def test_retry_delay_is_a_duration_string_never_shorter(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


async def test_rpm_quota_answers_429_with_an_honest_retry_delay(
    http: aiohttp.ClientSession, start_mock: StartMock
) -> None:
    server = await start_mock(rpm=2)
    started = time.monotonic()
    assert [(await post(http, server.url))[0] for _ in range(2)] == [200, 200]
    status, body = await post(http, server.url)
    elapsed = time.monotonic() - started
    assert status == 429
    error = body["error"]
    retry = error["details"][-1]
    assert retry["@type"] == "type.googleapis.com/google.rpc.RetryInfo"
    # As the real API: the message has the precise wait, retryDelay its whole seconds.
    precise_s = float(error["message"].rsplit("Please retry in ", 1)[1].removesuffix("s."))
    assert 60 - elapsed - 0.5 <= precise_s <= 60.001
    assert retry["retryDelay"] == f"{int(precise_s)}s"
    violation = error["details"][0]["violations"][0]
    assert violation["quotaId"] == "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
    assert violation["quotaDimensions"]["model"] == "gemini-2.5-flash"
    assert (violation["quotaValue"], error["status"]) == ("2", "RESOURCE_EXHAUSTED")


async def test_quotas_are_per_key(http: aiohttp.ClientSession, start_mock: StartMock) -> None:
    server = await start_mock(rpm=1)
    assert (await post(http, server.url, "a"))[0] == 200
    assert (await post(http, server.url, "b"))[0] == 200
    assert (await post(http, server.url, "a"))[0] == 429


async def test_tpm_quota_counts_input_tokens(
    http: aiohttp.ClientSession, start_mock: StartMock
) -> None:
    server = await start_mock(tpm=12)  # room for two 5-token prompts
    statuses = [(await post(http, server.url))[0] for _ in range(3)]
    assert statuses == [200, 200, 429]
    _, body = await post(http, server.url)
    violation = body["error"]["details"][0]["violations"][0]
    assert violation["quotaId"] == "GenerateContentInputTokensPerModelPerMinute-FreeTier"


async def test_reset_refills_the_quota(http: aiohttp.ClientSession, start_mock: StartMock) -> None:
    server = await start_mock(rpm=1)
    assert (await post(http, server.url))[0] == 200
    assert (await post(http, server.url))[0] == 429
    async with http.post(server.url + "/_mock/reset") as response:
        assert response.status == 200
    assert (await post(http, server.url))[0] == 200


async def poll_statuses(
    http: aiohttp.ClientSession, url: str, until_s: float
) -> list[tuple[float, float, int]]:
    """(sent, answered, status) every 40 ms until ``until_s`` after the first request."""
    started = time.monotonic()
    seen: list[tuple[float, float, int]] = []
    while (sent := time.monotonic() - started) < until_s:
        status = (await post(http, url))[0]
        seen.append((sent, time.monotonic() - started, status))
        await asyncio.sleep(0.04)
    return seen


async def test_outage_window_turns_failures_on_and_off(
    http: aiohttp.ClientSession, start_mock: StartMock
) -> None:
    server = await start_mock(schedule=["outage:0.3-0.8:503"])
    async with http.post(server.url + "/_mock/reset"):  # schedule clock starts now
        pass
    seen = await poll_statuses(http, server.url, 1.1)
    # Judge only requests wholly inside a phase (the reset reply adds a few ms).
    before = {status for _, answered, status in seen if answered < 0.25}
    during = {status for sent, answered, status in seen if sent > 0.3 and answered < 0.75}
    after = {status for sent, _, status in seen if sent > 0.8}
    assert (before, during, after) == ({200}, {503}, {200})


async def test_outage_with_429_carries_retry_info(
    http: aiohttp.ClientSession, start_mock: StartMock
) -> None:
    server = await start_mock(schedule=["outage:0-60:429"])
    status, body = await post(http, server.url)
    assert status == 429 and body["error"]["details"][-1]["retryDelay"]


async def test_reset_restarts_the_schedule_clock(
    http: aiohttp.ClientSession, start_mock: StartMock
) -> None:
    server = await start_mock(schedule=["outage:0-0.25:500"])
    assert (await post(http, server.url))[0] == 500
    await asyncio.sleep(0.3)
    assert (await post(http, server.url))[0] == 200
    async with http.post(server.url + "/_mock/reset"):
        pass
    assert (await post(http, server.url))[0] == 500


async def test_capacity_queues_requests_so_latency_grows(
    http: aiohttp.ClientSession, start_mock: StartMock
) -> None:
    server = await start_mock(latency=0.1, max_concurrency=2)
    started = time.monotonic()

    async def timed() -> float:
        await post(http, server.url)
        return time.monotonic() - started

    finish_times = sorted(await asyncio.gather(*(timed() for _ in range(6))))
    # Three waves of two, about 0.1, 0.2 and 0.3 s; without the cap all would take 0.1 s.
    assert finish_times[1] >= 0.09 and finish_times[3] >= 0.19 and finish_times[5] >= 0.29
    assert finish_times[5] < 0.3 + 0.5
    assert server.stats()["peak_in_flight"] == 6


async def test_capacity_full_queue_is_503_overloaded(
    http: aiohttp.ClientSession, start_mock: StartMock, gemini: Any
) -> None:
    server = await start_mock(latency=0.5, max_concurrency=1, max_queue=1)
    results = await asyncio.gather(*(post(http, server.url) for _ in range(4)))
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 200, 503, 503]
    overloaded = next(body for status, body in results if status == 503)
    assert overloaded == gemini.fixture_json("error_503_overloaded.json")


async def test_client_giving_up_frees_its_queue_place(
    http: aiohttp.ClientSession, start_mock: StartMock
) -> None:
    server = await start_mock(latency=0.3, max_concurrency=1, max_queue=1)
    first = asyncio.create_task(post(http, server.url))
    await asyncio.sleep(0.05)
    with pytest.raises(TimeoutError):
        timeout = aiohttp.ClientTimeout(total=0.05)
        async with http.post(server.url + GENERATE, json=BODY, headers=KEY, timeout=timeout):
            pass
    for _ in range(50):  # the disconnect reaches the server soon after
        if server.stats()["capacity"]["queued"] == 0:
            break
        await asyncio.sleep(0.02)
    assert server.stats()["capacity"]["queued"] == 0
    assert (await post(http, server.url))[0] == 200  # waits its turn, not refused
    assert (await first)[0] == 200


@pytest.mark.parametrize(
    ("delay_s", "message", "retry_delay"),
    [
        pytest.param(1.4, "Please retry in 1.4s.", "1s", id="fraction"),
        pytest.param(26.4, "Please retry in 26.4s.", "26s", id="fixture"),
        pytest.param(0.5, "Please retry in 0.5s.", "0s", id="under-a-second"),
        pytest.param(3.0, "Please retry in 3s.", "3s", id="whole"),
    ],
)
def test_429_message_is_precise_and_retry_delay_whole_seconds(
    delay_s: float, message: str, retry_delay: str
) -> None:
    # shared/fixtures/gemini/error_429_quota.json: "Please retry in 26.4s." with "26s".
    error = quota_error(
        metric="m", quota_id="q", limit=1, model="gemini-2.5-flash", retry_delay_s=delay_s
    )
    assert error.message.endswith(message)
    assert error.body()["error"]["details"][-1] == {
        "@type": "type.googleapis.com/google.rpc.RetryInfo",
        "retryDelay": retry_delay,
    }
