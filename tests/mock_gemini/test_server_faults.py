"""Injected faults: each fires at its configured rate and behaves as documented."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from mock_gemini.app import RunningServer

StartMock = Callable[..., Awaitable[RunningServer]]
KEY = {"x-goog-api-key": "test-key"}
BODY = {"contents": [{"parts": [{"text": "Ingredients: rice. 1 recipe"}]}]}
GENERATE = "/v1beta/models/gemini-2.5-flash:generateContent"
SSE = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
ARRAY = "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
CLIENT_GIVES_UP_S = 0.3
RATE_REQUESTS = 200
RATE_P = 0.3


async def outcome(
    http: aiohttp.ClientSession, url: str, gives_up_s: float = CLIENT_GIVES_UP_S
) -> str:
    """What one request saw: an HTTP status, "safety", "malformed", "stream_error", ..."""
    timeout = aiohttp.ClientTimeout(total=gives_up_s)
    try:
        async with http.post(url, json=BODY, headers=KEY, timeout=timeout) as response:
            raw = await response.read()
    except TimeoutError:
        return "hang"
    except aiohttp.ClientPayloadError:
        return "stream_cut"
    except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError):
        return "reset"
    if response.status != 200:
        return str(response.status)
    return _classify_200(raw)


def _classify_200(raw: bytes) -> str:
    blocks = [b.removeprefix(b"data: ") for b in raw.split(b"\r\n\r\n") if b]
    try:
        objects = [json.loads(block) for block in blocks]
    except ValueError:
        return "malformed"
    if "error" in objects[-1]:
        return "stream_error"
    candidate = objects[-1]["candidates"][0]
    return "safety" if candidate.get("finishReason") == "SAFETY" else "ok"


FAULT_CASES = [
    pytest.param("429", GENERATE, id="429"),
    pytest.param("500", GENERATE, id="500"),
    pytest.param("503", GENERATE, id="503"),
    pytest.param("504", GENERATE, id="504"),
    pytest.param("hang", GENERATE, id="hang"),
    pytest.param("reset", GENERATE, id="reset"),
    pytest.param("stream_error", SSE, id="stream_error"),
    pytest.param("stream_cut", SSE, id="stream_cut"),
    pytest.param("malformed", GENERATE, id="malformed"),
    pytest.param("safety", SSE, id="safety"),
]


@pytest.mark.parametrize(("kind", "path"), FAULT_CASES)
async def test_each_fault_fires_at_its_configured_rate(
    http: aiohttp.ClientSession, start_mock: StartMock, kind: str, path: str
) -> None:
    # A hang ends in a 504 after hang_max_s, so a slow machine cannot pass for a hang.
    server = await start_mock(faults={kind: RATE_P}, seed=11, hang_max_s=0.2)
    gate = asyncio.Semaphore(50)

    async def one() -> str:
        async with gate:
            return await outcome(http, server.url + path, gives_up_s=30)

    seen = await asyncio.gather(*(one() for _ in range(RATE_REQUESTS)))
    fired = seen.count("504" if kind == "hang" else kind)
    assert seen.count("ok") + fired == RATE_REQUESTS, sorted(set(seen))
    # Binomial(200, 0.3): mean 60, sd 6.5; ±4 sd.
    assert 34 <= fired <= 86


async def test_injected_429_is_shaped_like_the_quota_fixture(
    http: aiohttp.ClientSession, start_mock: StartMock, gemini: Any
) -> None:
    server = await start_mock(faults={"429": 1.0})
    async with http.post(server.url + GENERATE, json=BODY, headers=KEY) as response:
        error = (await response.json())["error"]
    fixture = gemini.fixture_json("error_429_quota.json")["error"]
    assert (error["code"], error["status"]) == (429, "RESOURCE_EXHAUSTED")
    assert [d["@type"] for d in error["details"]] == [d["@type"] for d in fixture["details"]]
    assert error["details"][2]["retryDelay"] == "1s"
    assert error["message"].endswith("Please retry in 1s.")
    assert "Retry-After" not in response.headers


@pytest.mark.parametrize(
    ("code", "status", "message_start"),
    [
        pytest.param(500, "INTERNAL", "An internal error has occurred.", id="500"),
        pytest.param(503, "UNAVAILABLE", "The model is overloaded.", id="503"),
        pytest.param(504, "DEADLINE_EXCEEDED", "Deadline expired", id="504"),
    ],
)
async def test_status_faults_answer_after_the_first_token_latency(
    http: aiohttp.ClientSession, start_mock: StartMock, code: int, status: str, message_start: str
) -> None:
    server = await start_mock(faults={str(code): 1.0}, latency=0.15)
    started = time.monotonic()
    async with http.post(server.url + GENERATE, json=BODY, headers=KEY) as response:
        body = await response.json()
    assert time.monotonic() - started >= 0.14
    assert response.status == code and response.headers["Content-Type"].startswith(
        "application/json"
    )
    assert body["error"]["status"] == status
    assert body["error"]["message"].startswith(message_start)


async def test_hang_ends_when_the_client_gives_up_and_frees_the_server(
    http: aiohttp.ClientSession, start_mock: StartMock
) -> None:
    server = await start_mock(faults={"hang": 1.0})
    assert await outcome(http, server.url + GENERATE) == "hang"
    for _ in range(50):  # the handler is cancelled when the connection closes
        if server.stats()["in_flight"] == 0:
            break
        await asyncio.sleep(0.02)
    stats = server.stats()
    assert stats["in_flight"] == 0
    assert stats["requests"]["generateContent"] == {"cancelled": 1}


async def test_hang_is_bounded_by_hang_max_s(
    http: aiohttp.ClientSession, start_mock: StartMock
) -> None:
    server = await start_mock(faults={"hang": 1.0}, hang_max_s=0.1)
    started = time.monotonic()
    async with http.post(server.url + GENERATE, json=BODY, headers=KEY) as response:
        assert response.status == 504
    assert 0.09 <= time.monotonic() - started < 1.0


async def test_stream_error_sends_chunks_then_an_error_event(
    http: aiohttp.ClientSession, start_mock: StartMock
) -> None:
    server = await start_mock(faults={"stream_error": 1.0})
    async with http.post(server.url + SSE, json=BODY, headers=KEY) as response:
        assert response.status == 200
        raw = await response.read()
    events = [json.loads(b.removeprefix(b"data: ")) for b in raw.split(b"\r\n\r\n") if b]
    assert len(events) >= 2 and "candidates" in events[0]
    assert events[-1] == {"error": {"code": 500, "message": events[-1]["error"]["message"],
                                    "status": "INTERNAL"}}  # fmt: skip


async def test_stream_error_on_the_array_form_stays_valid_json(
    http: aiohttp.ClientSession, start_mock: StartMock
) -> None:
    server = await start_mock(faults={"stream_error": 1.0})
    async with http.post(server.url + ARRAY, json=BODY, headers=KEY) as response:
        items = json.loads(await response.read())
    assert "candidates" in items[0] and items[-1]["error"]["code"] == 500


@pytest.mark.parametrize(
    ("kind", "seen"),
    [
        pytest.param("stream_error", "500", id="stream_error"),
        pytest.param("stream_cut", "stream_cut", id="stream_cut"),
        pytest.param("safety", "safety", id="safety"),
        pytest.param("malformed", "malformed", id="malformed"),
    ],
)
async def test_stream_faults_on_non_streamed_requests(
    http: aiohttp.ClientSession, start_mock: StartMock, kind: str, seen: str
) -> None:
    server = await start_mock(faults={kind: 1.0})
    assert await outcome(http, server.url + GENERATE) == seen


async def test_safety_blocks_without_text(
    http: aiohttp.ClientSession, start_mock: StartMock
) -> None:
    server = await start_mock(faults={"safety": 1.0})
    async with http.post(server.url + GENERATE, json=BODY, headers=KEY) as response:
        candidate = (await response.json())["candidates"][0]
    assert candidate["finishReason"] == "SAFETY" and "content" not in candidate


async def test_openai_routes_see_faults_wrapped_in_a_list(
    http: aiohttp.ClientSession, start_mock: StartMock
) -> None:
    server = await start_mock(faults={"503": 1.0})
    body = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}]}
    url = server.url + "/v1beta/openai/chat/completions"
    async with http.post(url, json=body, headers={"Authorization": "Bearer k"}) as response:
        assert response.status == 503
        assert (await response.json())[0]["error"]["status"] == "UNAVAILABLE"
