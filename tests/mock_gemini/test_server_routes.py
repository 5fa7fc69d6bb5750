"""Every route of gemini-api.md §1 over plain HTTP, under each API version and any prefix."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from mock_gemini.app import RunningServer

StartMock = Callable[..., Awaitable[RunningServer]]
KEY_HEADERS = {"x-goog-api-key": "test-key"}
RECIPE_BODY = {"contents": [{"parts": [{"text": "Ingredients: chicken, rice. 2 recipes"}]}]}

VERSIONS = [pytest.param(v, id=v) for v in ("v1", "v1beta", "v1alpha")]
PREFIXES = [pytest.param("", id="no-prefix"), pytest.param("/proxy/gemini", id="prefix")]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("prefix", PREFIXES)
async def test_generate_content_under_every_version_and_prefix(
    http: aiohttp.ClientSession, mock_url: str, version: str, prefix: str, gemini: Any
) -> None:
    url = f"{mock_url}{prefix}/{version}/models/gemini-2.5-flash:generateContent"
    async with http.post(url, json=RECIPE_BODY, headers=KEY_HEADERS) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/json; charset=UTF-8"
        body = await response.json()
    assert "chicken" in gemini.answer_text(body)
    assert body["candidates"][0]["finishReason"] == "STOP"
    assert body["modelVersion"] == "gemini-2.5-flash"


async def test_generate_content_has_the_fixture_shape(
    http: aiohttp.ClientSession, mock_url: str, gemini: Any
) -> None:
    fixture = gemini.fixture_json("generate_content.json")
    url = f"{mock_url}/v1beta/models/gemini-2.5-flash:generateContent"
    async with http.post(url, json=RECIPE_BODY, headers=KEY_HEADERS) as response:
        body = await response.json()
    assert set(body) == set(fixture)
    assert set(body["candidates"][0]) == set(fixture["candidates"][0])
    assert set(body["usageMetadata"]) <= set(fixture["usageMetadata"])
    assert "createTime" not in body and "trafficType" not in body


async def test_google_generativeai_query_is_accepted(
    http: aiohttp.ClientSession, mock_url: str
) -> None:
    url = f"{mock_url}/v1beta/models/gemini-2.5-flash:generateContent?$alt=json;enum-encoding=int"
    async with http.post(url, json=RECIPE_BODY, headers=KEY_HEADERS) as response:
        assert response.status == 200


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"contents": [{"parts": [{"text": "Hello there"}]}]}, id="contents"),
        pytest.param(
            {
                "generateContentRequest": {
                    "model": "models/gemini-2.5-flash",
                    "contents": [{"parts": [{"text": "Hello there"}]}],
                }
            },
            id="generateContentRequest",
        ),
    ],
)
async def test_count_tokens_accepts_both_body_forms(
    http: aiohttp.ClientSession, mock_url: str, body: dict[str, object]
) -> None:
    url = f"{mock_url}/v1beta/models/gemini-2.5-flash:countTokens"
    async with http.post(url, json=body, headers=KEY_HEADERS) as response:
        assert response.status == 200
        assert (await response.json())["totalTokens"] == 3  # ceil(11 / 4)


async def test_count_tokens_includes_the_system_instruction(
    http: aiohttp.ClientSession, mock_url: str
) -> None:
    inner = {
        "contents": [{"parts": [{"text": "abcd"}]}],
        "systemInstruction": {"parts": [{"text": "abcdefgh"}]},
    }
    url = f"{mock_url}/v1/models/gemini-2.5-flash:countTokens"
    async with http.post(url, json={"generateContentRequest": inner}, headers=KEY_HEADERS) as r:
        assert (await r.json())["totalTokens"] == 3


async def test_embed_content_is_a_deterministic_unit_vector(
    http: aiohttp.ClientSession, mock_url: str
) -> None:
    url = f"{mock_url}/v1beta/models/text-embedding-004:embedContent"
    body = {"content": {"parts": [{"text": "chicken"}]}, "outputDimensionality": 16}
    vectors = []
    for _ in range(2):
        async with http.post(url, json=body, headers=KEY_HEADERS) as response:
            vectors.append((await response.json())["embedding"]["values"])
    assert vectors[0] == vectors[1] and len(vectors[0]) == 16
    assert sum(v * v for v in vectors[0]) == pytest.approx(1.0, abs=1e-4)


async def test_batch_embed_contents_answers_one_vector_per_request(
    http: aiohttp.ClientSession, mock_url: str
) -> None:
    url = f"{mock_url}/v1beta/models/gemini-embedding-001:batchEmbedContents"
    requests = [
        {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": t}]}}
        for t in ("rice", "beans", "rice")
    ]
    async with http.post(url, json={"requests": requests}, headers=KEY_HEADERS) as response:
        embeddings = (await response.json())["embeddings"]
    assert len(embeddings) == 3 and len(embeddings[0]["values"]) == 3072
    assert embeddings[0] == embeddings[2] != embeddings[1]


async def test_models_list_pages_through_the_whole_catalogue(
    http: aiohttp.ClientSession, mock_url: str
) -> None:
    names: list[str] = []
    token = ""
    for _ in range(10):
        url = f"{mock_url}/v1beta/models?pageSize=3&pageToken={token}"
        async with http.get(url, headers=KEY_HEADERS) as response:
            page = await response.json()
        assert len(page["models"]) <= 3
        names += [model["name"] for model in page["models"]]
        token = page.get("nextPageToken", "")
        if not token:
            break
    assert len(names) == len(set(names)) == 17
    assert {"models/gemini-2.5-flash", "models/text-embedding-004"} <= set(names)


async def test_models_list_refuses_a_forged_page_token(
    http: aiohttp.ClientSession, mock_url: str
) -> None:
    url = f"{mock_url}/v1beta/models?pageToken=garbage"
    async with http.get(url, headers=KEY_HEADERS) as response:
        assert response.status == 400
        assert (await response.json())["error"]["status"] == "INVALID_ARGUMENT"


async def test_models_get_has_the_model_fields(http: aiohttp.ClientSession, mock_url: str) -> None:
    async with http.get(f"{mock_url}/v1/models/gemini-2.5-pro", headers=KEY_HEADERS) as response:
        model = await response.json()
    expected = {"name", "version", "displayName", "description", "inputTokenLimit"}
    expected |= {"outputTokenLimit", "supportedGenerationMethods", "temperature", "topP", "topK"}
    assert expected | {"maxTemperature"} <= set(model)
    assert "generateContent" in model["supportedGenerationMethods"]


async def test_extra_models_are_served_and_tuned_models_resolve(
    http: aiohttp.ClientSession, start_mock: StartMock
) -> None:
    server = await start_mock(extra_models=["my-model", "tunedModels/recipe-bot"])
    base = f"{server.url}/v1beta"
    async with http.get(f"{base}/tunedModels/recipe-bot", headers=KEY_HEADERS) as response:
        assert (await response.json())["name"] == "tunedModels/recipe-bot"
    async with http.get(f"{base}/tunedModels", headers=KEY_HEADERS) as response:
        assert [m["name"] for m in (await response.json())["tunedModels"]] == [
            "tunedModels/recipe-bot"
        ]
    for path in ("models/my-model", "tunedModels/recipe-bot"):
        async with http.post(
            f"{base}/{path}:generateContent", json=RECIPE_BODY, headers=KEY_HEADERS
        ) as response:
            assert response.status == 200


async def test_openai_models_lists_model_objects(
    http: aiohttp.ClientSession, mock_url: str
) -> None:
    headers = {"Authorization": "Bearer k"}
    async with http.get(f"{mock_url}/v1beta/openai/models", headers=headers) as response:
        listing = await response.json()
    assert listing["object"] == "list"
    assert {"id": "models/gemini-2.5-flash", "object": "model"}.items() <= listing["data"][
        0
    ].items()


async def test_openai_chat_completion_has_the_fixture_shape(
    http: aiohttp.ClientSession, mock_url: str, gemini: Any
) -> None:
    fixture = gemini.fixture_json("openai_chat_completion.json")
    body = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "Tofu ideas"}]}
    url = f"{mock_url}/v1beta/openai/chat/completions"
    async with http.post(url, json=body, headers={"Authorization": "Bearer k"}) as response:
        answer = await response.json()
    assert set(answer) == set(fixture)
    assert set(answer["choices"][0]) == set(fixture["choices"][0])
    assert answer["object"] == "chat.completion" and answer["choices"][0]["finish_reason"] == "stop"
    usage = answer["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert "tofu" in answer["choices"][0]["message"]["content"].lower()


async def test_openai_chat_stream_ends_with_done(
    http: aiohttp.ClientSession, mock_url: str
) -> None:
    body = {"model": "models/gemini-2.5-flash", "stream": True, "messages": [{"role": "user",
            "content": "Ingredients: lentils"}]}  # fmt: skip
    url = f"{mock_url}/v1beta/openai/chat/completions"
    async with http.post(url, json=body, headers={"Authorization": "Bearer k"}) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        raw = (await response.read()).decode()
    events = [block.removeprefix("data: ") for block in raw.strip().split("\n\n")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    assert [c["choices"][0]["finish_reason"] for c in chunks][-2:] == [None, "stop"]
    assert "usage" in chunks[-1] and "usage" not in chunks[0]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert "lentils" in text


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        pytest.param("GET", "/v1beta/nothing-here", 404, id="unknown-path"),
        pytest.param("GET", "/v1beta/models/gemini-2.5-flash:frobnicate", 404, id="unknown-method"),
        pytest.param("GET", "/v1beta/models/gemini-2.5-flash:generateContent", 405, id="get-post"),
        pytest.param("POST", "/v1beta/models", 405, id="post-list"),
    ],
)
async def test_unknown_routes_get_a_google_error_body(
    http: aiohttp.ClientSession, mock_url: str, method: str, path: str, status: int
) -> None:
    async with http.request(method, mock_url + path, headers=KEY_HEADERS) as response:
        assert response.status == status
        assert response.headers["Content-Type"].startswith("application/json")
        assert (await response.json())["error"]["code"] == status
