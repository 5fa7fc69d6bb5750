"""The official google-genai client, sync and async, works against the mock unchanged."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from google import genai
from google.genai import errors, types
from pydantic import BaseModel

from mock_gemini import MockConfig, MockHandle, serve_mock, start_mock_in_thread
from mock_gemini.app import RunningServer

MODEL = "gemini-2.5-flash"
PROMPT = "Ingredients: chicken, rice. Give me 2 recipes."
VERSIONS = [pytest.param(v, id=v) for v in ("v1", "v1beta")]


class Recipe(BaseModel):
    title: str
    cuisine: str
    ingredients: list[str]
    steps: list[str]
    prep_time_minutes: int
    cook_time_minutes: int
    servings: int


def client(url: str, version: str = "v1beta", **options: Any) -> genai.Client:
    http = types.HttpOptions(base_url=url, api_version=version, timeout=10_000, **options)
    return genai.Client(api_key="test-key", http_options=http)


@pytest.fixture(scope="module")
def thread_mock() -> Iterator[MockHandle]:
    """One mock in a thread for the sync client (which blocks its caller)."""
    with start_mock_in_thread(MockConfig()) as mock:
        yield mock


@pytest.fixture
async def async_mock() -> AsyncIterator[RunningServer]:
    async with serve_mock(MockConfig()) as server:
        yield server


# ---- sync client --------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_sync_generate_content(thread_mock: MockHandle, version: str) -> None:
    with client(thread_mock.url, version) as gc:
        response = gc.models.generate_content(model=MODEL, contents=PROMPT)
    assert response.text and "chicken" in response.text
    assert response.candidates and response.candidates[0].finish_reason == "STOP"
    usage = response.usage_metadata
    assert usage and usage.total_token_count == (
        (usage.prompt_token_count or 0) + (usage.candidates_token_count or 0)
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_sync_stream_count_embed_list_get(thread_mock: MockHandle, version: str) -> None:
    with client(thread_mock.url, version) as gc:
        chunks = list(gc.models.generate_content_stream(model=MODEL, contents=PROMPT))
        whole = gc.models.generate_content(model=MODEL, contents=PROMPT).text
        tokens = gc.models.count_tokens(model=MODEL, contents="abcdefgh")
        texts: list[types.ContentUnionDict] = ["a", "b"]
        embedded = gc.models.embed_content(model="text-embedding-004", contents=texts)
        names = [model.name for model in gc.models.list(config={"page_size": 2})]
        model = gc.models.get(model="gemini-2.5-pro")
    assert len(chunks) > 2 and "".join(c.text or "" for c in chunks) == whole
    assert tokens.total_tokens == 2
    assert embedded.embeddings and [len(e.values or []) for e in embedded.embeddings] == [768, 768]
    assert len(names) == 17 and "models/gemini-flash-latest" in names  # pager fetched all pages
    assert model.display_name == "Gemini 2.5 Pro" and model.output_token_limit == 65_536


def test_sync_json_mode_with_response_schema_parses(thread_mock: MockHandle) -> None:
    config = types.GenerateContentConfig(
        response_mime_type="application/json", response_schema=list[Recipe]
    )
    with client(thread_mock.url) as gc:
        response = gc.models.generate_content(model=MODEL, contents=PROMPT, config=config)
    recipes = response.parsed
    assert isinstance(recipes, list) and len(recipes) == 2
    assert all(isinstance(r, Recipe) and "chicken" in r.ingredients for r in recipes)


def test_sync_json_mode_with_response_json_schema_parses(thread_mock: MockHandle) -> None:
    config = types.GenerateContentConfig(
        response_mime_type="application/json",
        response_json_schema=Recipe.model_json_schema(),
    )
    with client(thread_mock.url) as gc:
        response = gc.models.generate_content(model=MODEL, contents=PROMPT, config=config)
    recipe = Recipe.model_validate_json(response.text or "")
    assert "rice" in recipe.ingredients


# ---- async client -------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
async def test_async_client_every_call(async_mock: RunningServer, version: str) -> None:
    async with client(async_mock.url, version).aio as gc:
        response = await gc.models.generate_content(model=MODEL, contents=PROMPT)
        stream = await gc.models.generate_content_stream(model=MODEL, contents=PROMPT)
        chunks = [chunk async for chunk in stream]
        tokens = await gc.models.count_tokens(model=MODEL, contents="abcd")
        embedded = await gc.models.embed_content(model="gemini-embedding-001", contents="a")
        names = [m.name async for m in await gc.models.list()]
        model = await gc.models.get(model=MODEL)
    assert "".join(c.text or "" for c in chunks) == response.text
    assert chunks[-1].candidates and chunks[-1].candidates[0].finish_reason == "STOP"
    assert tokens.total_tokens == 1
    assert embedded.embeddings and len(embedded.embeddings[0].values or []) == 3072
    assert "models/gemini-2.5-flash-lite" in names
    assert model.name == "models/gemini-2.5-flash"
    assert async_mock.stats()["requests"]["streamGenerateContent"] == {"200": 1}


async def test_async_json_mode_with_response_schema_parses(async_mock: RunningServer) -> None:
    config = types.GenerateContentConfig(
        response_mime_type="application/json", response_schema=list[Recipe], temperature=0.2
    )
    async with client(async_mock.url).aio as gc:
        response = await gc.models.generate_content(model=MODEL, contents=PROMPT, config=config)
    assert isinstance(response.parsed, list) and isinstance(response.parsed[0], Recipe)


async def test_strict_mode_accepts_what_google_genai_sends() -> None:
    config = types.GenerateContentConfig(
        system_instruction="You are a chef.",
        temperature=0.5,
        top_k=40,
        top_p=0.9,
        max_output_tokens=2000,
        stop_sequences=["THE END"],
        seed=3,
        response_mime_type="application/json",
        response_schema=list[Recipe],
        thinking_config=types.ThinkingConfig(thinking_budget=0, include_thoughts=False),
        safety_settings=[
            types.SafetySetting(
                category=types.HarmCategory.HARM_CATEGORY_HARASSMENT,
                threshold=types.HarmBlockThreshold.BLOCK_ONLY_HIGH,
            )
        ],
    )
    async with serve_mock(MockConfig(strict=True)) as server, client(server.url).aio as gc:
        response = await gc.models.generate_content(model=MODEL, contents=PROMPT, config=config)
        tokens = await gc.models.count_tokens(model=MODEL, contents=PROMPT)
    assert isinstance(response.parsed, list) and tokens.total_tokens


async def test_stream_error_raises_after_the_first_chunks() -> None:
    config = MockConfig.from_mapping({"faults": {"stream_error": 1.0}})
    seen: list[str] = []
    async with serve_mock(config) as server, client(server.url).aio as gc:
        stream = await gc.models.generate_content_stream(model=MODEL, contents=PROMPT)
        with pytest.raises(errors.ServerError) as caught:
            async for chunk in stream:
                seen.append(chunk.text or "")
    assert seen and caught.value.code == 500 and caught.value.status == "INTERNAL"


# ---- errors -------------------------------------------------------------------------------


ERROR_CASES = [
    pytest.param({}, {"headers": {"x-goog-api-key": ""}}, MODEL, 403, "PERMISSION_DENIED",
                 id="403-no-key"),
    pytest.param({"api_keys": ["other"]}, {}, MODEL, 400, "INVALID_ARGUMENT", id="400-bad-key"),
    pytest.param({}, {}, "gemini-9-ultra", 404, "NOT_FOUND", id="404-model"),
    pytest.param({"schedule": ["outage:0-60:429"]}, {}, MODEL, 429, "RESOURCE_EXHAUSTED",
                 id="429-quota"),
    pytest.param({"faults": {"503": 1.0}}, {}, MODEL, 503, "UNAVAILABLE", id="503-overloaded"),
]  # fmt: skip


@pytest.mark.parametrize(("settings", "options", "model", "code", "status"), ERROR_CASES)
async def test_async_client_errors_carry_code_and_status(
    settings: dict[str, Any], options: dict[str, Any], model: str, code: int, status: str
) -> None:
    async with serve_mock(MockConfig.from_mapping(settings)) as server:
        gc = client(server.url, **options).aio
        with pytest.raises(errors.APIError) as caught:
            await gc.models.generate_content(model=model, contents=PROMPT)
        await gc.aclose()
    error = caught.value
    assert isinstance(error, errors.ClientError if code < 500 else errors.ServerError)
    assert (error.code, error.status) == (code, status)


@pytest.mark.parametrize(("settings", "options", "model", "code", "status"), ERROR_CASES)
def test_sync_client_errors_carry_code_and_status(
    settings: dict[str, Any], options: dict[str, Any], model: str, code: int, status: str
) -> None:
    mock = start_mock_in_thread(MockConfig.from_mapping(settings))
    with mock, client(mock.url, **options) as gc, pytest.raises(errors.APIError) as caught:
        gc.models.generate_content(model=model, contents=PROMPT)
    assert (caught.value.code, caught.value.status) == (code, status)


def test_rpm_quota_429_reaches_the_sync_client_with_retry_info() -> None:
    with start_mock_in_thread(MockConfig.from_mapping({"rpm": 1})) as mock, client(mock.url) as gc:
        gc.models.generate_content(model=MODEL, contents=PROMPT)
        with pytest.raises(errors.ClientError) as caught:
            gc.models.generate_content(model=MODEL, contents=PROMPT)
    details = caught.value.details["error"]["details"]
    assert caught.value.code == 429
    assert details[-1]["retryDelay"].endswith("s")
