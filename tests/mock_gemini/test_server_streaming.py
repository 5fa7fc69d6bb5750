"""Streaming: alt=sse framing byte for byte, the JSON-array form, and chunk pacing."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from mock_gemini.app import RunningServer

StartMock = Callable[..., Awaitable[RunningServer]]
KEY = {"x-goog-api-key": "test-key"}
BODY = {"contents": [{"parts": [{"text": "Ingredients: salmon, ginger. 2 recipes"}]}]}
BASE = "/v1beta/models/gemini-2.5-flash"


async def read(http: aiohttp.ClientSession, url: str, body: Any = BODY) -> tuple[int, str, bytes]:
    async with http.post(url, json=body, headers=KEY) as response:
        return response.status, response.headers["Content-Type"], await response.read()


async def test_sse_events_are_data_lines_with_crlf_and_nothing_else(
    http: aiohttp.ClientSession, mock_url: str, gemini: Any
) -> None:
    status, content_type, raw = await read(http, f"{mock_url}{BASE}:streamGenerateContent?alt=sse")
    assert (status, content_type) == (200, "text/event-stream")
    events = gemini.sse_events(raw)  # asserts the framing of every event
    assert len(events) > 3
    assert b"[DONE]" not in raw and b"event:" not in raw and b"id:" not in raw


async def test_sse_chunks_form_the_same_answer_as_generate_content(
    http: aiohttp.ClientSession, mock_url: str, gemini: Any
) -> None:
    _, _, raw = await read(http, f"{mock_url}{BASE}:streamGenerateContent?alt=sse")
    events = gemini.sse_events(raw)
    _, _, whole = await read(http, f"{mock_url}{BASE}:generateContent")
    answer = json.loads(whole)
    assert "".join(gemini.answer_text(e) for e in events) == gemini.answer_text(answer)
    assert len({e["responseId"] for e in events}) == 1
    assert {e["modelVersion"] for e in events} == {"gemini-2.5-flash"}
    finishes = [e["candidates"][0].get("finishReason") for e in events]
    assert finishes[:-1] == [None] * (len(events) - 1) and finishes[-1] == "STOP"
    assert events[-1]["usageMetadata"] == answer["usageMetadata"]


async def test_sse_usage_counts_output_on_the_last_chunk_only_and_first_chunk_is_small(
    http: aiohttp.ClientSession, mock_url: str, gemini: Any
) -> None:
    _, _, raw = await read(http, f"{mock_url}{BASE}:streamGenerateContent?alt=sse")
    events = gemini.sse_events(raw)
    assert len(events) > 2
    # The real stream (shared fixture stream_alt_sse.txt): middle chunks carry the prompt
    # and total counts only; the last one adds candidatesTokenCount.
    for event in events[:-1]:
        usage = event["usageMetadata"]
        assert set(usage) == {"promptTokenCount", "totalTokenCount"}
        assert usage["totalTokenCount"] == usage["promptTokenCount"]
    last = events[-1]["usageMetadata"]
    assert last["candidatesTokenCount"] > 0
    assert last["totalTokenCount"] == last["promptTokenCount"] + last["candidatesTokenCount"]
    assert len(gemini.answer_text(events[0])) <= 12  # about 3 tokens of 4 characters
    assert all(len(gemini.answer_text(e)) <= 80 for e in events)  # about 20 tokens


async def test_json_array_stream_is_written_as_one_array(
    http: aiohttp.ClientSession, mock_url: str, gemini: Any
) -> None:
    status, content_type, raw = await read(http, f"{mock_url}{BASE}:streamGenerateContent")
    assert status == 200 and content_type.startswith("application/json")
    assert raw.startswith(b"[{") and raw.endswith(b"}]")
    items = json.loads(raw)
    assert raw.count(b",\r\n{") == len(items) - 1
    assert items[-1]["candidates"][0]["finishReason"] == "STOP"
    assert "salmon" in "".join(gemini.answer_text(item) for item in items)


async def test_stream_chunks_arrive_at_the_planned_pace(
    http: aiohttp.ClientSession, start_mock: StartMock
) -> None:
    # ttft 0.2 s, then each ~20-token chunk takes 20 / 400 = 0.05 s.
    server = await start_mock(latency=0.2, tokens_per_s=400)
    url = f"{server.url}{BASE}:streamGenerateContent?alt=sse"
    started = time.monotonic()
    arrivals: list[float] = []
    async with http.post(url, json=BODY, headers=KEY) as response:
        async for _ in response.content.iter_chunked(1 << 16):
            arrivals.append(time.monotonic() - started)
    assert 0.19 <= arrivals[0] < 0.5
    total_tokens = 0
    async with http.post(f"{server.url}{BASE}:generateContent", json=BODY, headers=KEY) as r:
        total_tokens = (await r.json())["usageMetadata"]["candidatesTokenCount"]
    expected_end = 0.2 + total_tokens / 400
    assert expected_end - 0.05 <= arrivals[-1] <= expected_end + 0.5  # a busy machine is late
    assert len(arrivals) > 3  # chunks were written apart, not in one piece


async def test_non_streamed_answer_waits_the_whole_plan(
    http: aiohttp.ClientSession, start_mock: StartMock
) -> None:
    server = await start_mock(latency=0.1, tokens_per_s=1000, thinking_tokens=100)
    started = time.monotonic()
    async with http.post(f"{server.url}{BASE}:generateContent", json=BODY, headers=KEY) as r:
        usage = (await r.json())["usageMetadata"]
    elapsed = time.monotonic() - started
    expected = 0.1 + (usage["candidatesTokenCount"] + 100) / 1000
    assert expected - 0.02 <= elapsed <= expected + 0.4
    assert usage["thoughtsTokenCount"] == 100
    assert usage["totalTokenCount"] == (
        usage["promptTokenCount"] + usage["candidatesTokenCount"] + usage["thoughtsTokenCount"]
    )


async def test_brownout_multiplies_the_latency(
    http: aiohttp.ClientSession, start_mock: StartMock
) -> None:
    server = await start_mock(latency=0.1, schedule=["brownout:0-60:3"])
    started = time.monotonic()
    async with http.post(f"{server.url}{BASE}:generateContent", json=BODY, headers=KEY) as r:
        assert r.status == 200
    assert 0.29 <= time.monotonic() - started <= 0.7
