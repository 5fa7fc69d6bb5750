"""The mock as a peer-friendly server: OpenAI's root paths, /health and length control,
while google-genai's ``/v1/models…`` Gemini routes keep working (real server, port 0)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from mock_gemini.app import RunningServer

StartMock = Callable[..., Awaitable[RunningServer]]
BEARER = {"Authorization": "Bearer test-key"}
GOOG = {"x-goog-api-key": "test-key"}
CHAT = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "Ingredients: egg"}]}


async def test_health_answers_200_json(http: aiohttp.ClientSession, mock_url: str) -> None:
    async with http.get(f"{mock_url}/health") as response:
        assert response.status == 200
        assert (await response.json())["status"] == "ok"


@pytest.mark.parametrize("prefix", ["/v1", "/v1beta/openai"])
async def test_chat_completions_at_the_root_and_the_compatible_path(
    http: aiohttp.ClientSession, mock_url: str, prefix: str
) -> None:
    async with http.post(f"{mock_url}{prefix}/chat/completions", json=CHAT, headers=BEARER) as r:
        assert r.status == 200
        body = await r.json()
    assert body["object"] == "chat.completion"
    assert "egg" in body["choices"][0]["message"]["content"]
    assert body["usage"]["completion_tokens"] > 0


async def test_legacy_completions_stream_and_not(
    http: aiohttp.ClientSession, mock_url: str
) -> None:
    request = {"model": "gemini-2.5-flash", "prompt": "Ingredients: rice", "max_tokens": 50}
    async with http.post(f"{mock_url}/v1/completions", json=request, headers=BEARER) as r:
        assert r.status == 200
        body = await r.json()
    assert body["object"] == "text_completion" and body["choices"][0]["text"]
    assert body["usage"]["completion_tokens"] <= 50
    streamed = {**request, "stream": True}
    async with http.post(f"{mock_url}/v1/completions", json=streamed, headers=BEARER) as r:
        raw = await r.read()
    events = [line[6:] for line in raw.decode().split("\n\n") if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    text = "".join(c["choices"][0]["text"] for c in chunks)
    assert text == body["choices"][0]["text"]
    assert chunks[-1]["usage"] == body["usage"]


async def test_embeddings_at_the_root(http: aiohttp.ClientSession, mock_url: str) -> None:
    request = {"model": "gemini-embedding-001", "input": ["a", "b"], "encoding_format": "float"}
    async with http.post(f"{mock_url}/v1/embeddings", json=request, headers=BEARER) as r:
        assert r.status == 200
        assert len((await r.json())["data"]) == 2


async def test_v1_models_is_openai_for_bearer_and_gemini_for_google_keys(
    http: aiohttp.ClientSession, mock_url: str
) -> None:
    async with http.get(f"{mock_url}/v1/models", headers=BEARER) as r:
        openai_list = await r.json()
    async with http.get(f"{mock_url}/v1/models", headers=GOOG) as r:
        gemini_list = await r.json()
    async with http.get(f"{mock_url}/v1/models/gemini-2.5-flash", headers=BEARER) as r:
        one = await r.json()
    assert openai_list["object"] == "list" and openai_list["data"][0]["object"] == "model"
    assert "models" in gemini_list and "data" not in gemini_list
    assert one["object"] == "model"
    generate = f"{mock_url}/v1/models/gemini-2.5-flash:generateContent"
    body = {"contents": [{"parts": [{"text": "Ingredients: egg"}]}]}
    for headers in (GOOG, BEARER):  # google-genai's /v1 generate route, whatever the key
        async with http.post(generate, json=body, headers=headers) as r:
            assert r.status == 200 and "candidates" in await r.json()


async def _chat_tokens(http: aiohttp.ClientSession, url: str, **fields: Any) -> tuple[int, str]:
    request = {**CHAT, **fields}
    async with http.post(f"{url}/v1/chat/completions", json=request, headers=BEARER) as r:
        assert r.status == 200, await r.text()
        body = await r.json()
    return body["usage"]["completion_tokens"], body["choices"][0]["finish_reason"]


async def test_ignore_eos_gives_exactly_max_tokens_and_min_tokens_at_least(
    http: aiohttp.ClientSession, start_mock: StartMock
) -> None:
    server = await start_mock(latency=0.0, strict=True)
    natural, _ = await _chat_tokens(http, server.url)
    exact = natural + 300
    assert await _chat_tokens(http, server.url, max_tokens=exact, ignore_eos=True) == (
        exact,
        "stop",
    )
    assert (await _chat_tokens(http, server.url, min_tokens=exact))[0] == exact
    few = max(natural // 2, 1)
    assert (await _chat_tokens(http, server.url, min_tokens=few))[0] == natural
    # ignore_eos with fewer max_tokens than the answer: cut at max_tokens, finish "length"
    assert await _chat_tokens(http, server.url, max_tokens=few, ignore_eos=True) == (few, "length")


async def test_streamed_length_control(http: aiohttp.ClientSession, start_mock: StartMock) -> None:
    server = await start_mock(latency=0.0, tokens_per_s=100000)
    request = {**CHAT, "stream": True, "max_tokens": 700, "ignore_eos": True}
    async with http.post(f"{server.url}/v1/chat/completions", json=request, headers=BEARER) as r:
        raw = await r.read()
    chunks = [json.loads(b[6:]) for b in raw.split(b"\n\n") if b.startswith(b"data: {")]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert chunks[-1]["usage"]["completion_tokens"] == 700 and len(text) == 2800
