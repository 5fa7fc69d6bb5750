"""Authentication, request validation and error bodies (gemini-api.md §2, §3, §5)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from mock_gemini.app import RunningServer

StartMock = Callable[..., Awaitable[RunningServer]]
PATH = "/v1beta/models/gemini-2.5-flash:generateContent"
KEY = {"x-goog-api-key": "test-key"}
BODY = {"contents": [{"parts": [{"text": "Ingredients: beef"}]}]}


async def post(
    http: aiohttp.ClientSession, url: str, body: Any = BODY, headers: dict[str, str] = KEY
) -> tuple[int, str, Any]:
    """(status, content type, decoded JSON body) of one POST."""
    data = body if isinstance(body, bytes) else None
    kwargs: dict[str, Any] = {"data": data} if data is not None else {"json": body}
    async with http.post(url, headers=headers, **kwargs) as response:
        return response.status, response.headers["Content-Type"], await response.json()


async def test_no_key_is_403_exactly_as_the_fixture(
    http: aiohttp.ClientSession, mock_url: str, gemini: Any
) -> None:
    status, content_type, body = await post(http, mock_url + PATH, headers={})
    assert (status, body) == (403, gemini.fixture_json("error_403_no_key.json"))
    assert content_type.startswith("application/json")


@pytest.mark.parametrize(
    ("suffix", "headers"),
    [
        pytest.param("", {"x-goog-api-key": "good"}, id="header"),
        pytest.param("?key=good", {}, id="query"),
        pytest.param("", {"Authorization": "Bearer good"}, id="bearer"),
    ],
)
async def test_a_configured_key_is_accepted_wherever_it_comes(
    http: aiohttp.ClientSession, start_mock: StartMock, suffix: str, headers: dict[str, str]
) -> None:
    server = await start_mock(api_keys=["good"])
    status, _, _ = await post(http, server.url + PATH + suffix, headers=headers)
    assert status == 200


async def test_an_unknown_key_is_400_api_key_invalid(
    http: aiohttp.ClientSession, start_mock: StartMock, gemini: Any
) -> None:
    server = await start_mock(api_keys=["good"])
    status, _, body = await post(http, server.url + PATH, headers={"x-goog-api-key": "bad"})
    assert (status, body) == (400, gemini.fixture_json("error_400_api_key_invalid.json"))


async def test_openai_route_without_bearer_is_403_in_a_list(
    http: aiohttp.ClientSession, mock_url: str
) -> None:
    body = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}]}
    status, _, answer = await post(http, mock_url + "/v1beta/openai/chat/completions", body, {})
    assert status == 403
    assert isinstance(answer, list) and answer[0]["error"]["status"] == "PERMISSION_DENIED"


@pytest.mark.parametrize("version", [pytest.param(v, id=v) for v in ("v1", "v1beta")])
async def test_unknown_model_is_404_naming_the_api_version(
    http: aiohttp.ClientSession, mock_url: str, version: str, gemini: Any
) -> None:
    url = f"{mock_url}/{version}/models/gemini-9-ultra:generateContent"
    status, _, body = await post(http, url)
    expected = gemini.fixture_json("error_404_model.json")
    expected["error"]["message"] = expected["error"]["message"].replace("v1beta", version)
    assert (status, body) == (404, expected)


async def test_unknown_model_on_the_array_stream_is_wrapped_in_a_list(
    http: aiohttp.ClientSession, mock_url: str
) -> None:
    url = f"{mock_url}/v1beta/models/gemini-9-ultra:streamGenerateContent"
    status, _, body = await post(http, url)
    assert status == 404 and body[0]["error"]["status"] == "NOT_FOUND"


async def test_unknown_model_on_sse_stream_is_a_plain_error_object(
    http: aiohttp.ClientSession, mock_url: str
) -> None:
    url = f"{mock_url}/v1beta/models/gemini-9-ultra:streamGenerateContent?alt=sse"
    status, content_type, body = await post(http, url)
    assert (status, body["error"]["code"]) == (404, 404)
    assert content_type.startswith("application/json")


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        pytest.param(b"{not json", "Invalid JSON payload", id="malformed"),
        pytest.param(b"", "Invalid JSON payload", id="empty"),
        pytest.param(b"\xff\xfe", "Invalid", id="not-utf8"),
        pytest.param({}, "contents is not specified", id="no-contents"),
        pytest.param({"contents": []}, "contents is not specified", id="empty-contents"),
        pytest.param([1, 2], "Invalid", id="array"),
        pytest.param("text", "Invalid", id="string"),
        pytest.param({"contents": 5}, "Invalid", id="contents-number"),
        pytest.param({"contents": [7]}, "Invalid", id="content-number"),
        pytest.param({"contents": [{"parts": "x"}]}, "Invalid", id="parts-string"),
        pytest.param({"contents": [{"parts": [{"text": 5}]}]}, "Invalid", id="text-number"),
        pytest.param({**BODY, "generationConfig": "hot"}, "Invalid", id="config-string"),
        pytest.param(
            {**BODY, "generationConfig": {"maxOutputTokens": "many"}}, "Invalid", id="max-tokens"
        ),
        pytest.param(
            {**BODY, "generationConfig": {"thinkingConfig": {"thinkingBudget": [1]}}},
            "Invalid",
            id="budget-list",
        ),
    ],
)
async def test_bad_requests_are_400_never_500(
    http: aiohttp.ClientSession, mock_url: str, body: Any, needle: str
) -> None:
    status, content_type, answer = await post(http, mock_url + PATH, body)
    assert status == 400, answer
    assert answer["error"]["status"] == "INVALID_ARGUMENT"
    assert needle in answer["error"]["message"]
    assert content_type.startswith("application/json")


async def test_missing_contents_names_the_field(http: aiohttp.ClientSession, mock_url: str) -> None:
    _, _, answer = await post(http, mock_url + PATH, {})
    assert answer["error"]["message"].startswith("* GenerateContentRequest.contents:")


async def test_oversized_body_is_400_with_the_limit(
    http: aiohttp.ClientSession, start_mock: StartMock
) -> None:
    server = await start_mock(max_body_bytes=1000)
    big = {"contents": [{"parts": [{"text": "x" * 2000}]}]}
    status, _, answer = await post(http, server.url + PATH, big)
    assert status == 400
    assert answer["error"]["message"] == "Request payload size exceeds the limit: 1000 bytes."


async def test_oversized_chunked_body_is_400(
    http: aiohttp.ClientSession, start_mock: StartMock
) -> None:
    server = await start_mock(max_body_bytes=1000)

    async def chunks() -> Any:
        for _ in range(5):
            yield b" " * 400

    async with http.post(server.url + PATH, data=chunks(), headers=KEY) as response:
        assert response.status == 400
        assert "exceeds the limit" in (await response.json())["error"]["message"]


async def test_strict_mode_rejects_an_unknown_field_like_the_fixture(
    http: aiohttp.ClientSession, start_mock: StartMock, gemini: Any
) -> None:
    server = await start_mock(strict=True)
    body = {**BODY, "generationConfig": {"temprature": 0.5}}
    status, _, answer = await post(http, server.url + PATH, body)
    assert (status, answer) == (400, gemini.fixture_json("error_400_unknown_field.json"))


async def test_strict_mode_reports_nested_paths_in_snake_case(
    http: aiohttp.ClientSession, start_mock: StartMock
) -> None:
    server = await start_mock(strict=True)
    body = {"contents": [{"parts": [{"text": "x", "colour": 1}]}]}
    _, _, answer = await post(http, server.url + PATH, body)
    assert "Unknown name \"colour\" at 'contents[0].parts[0]'" in answer["error"]["message"]


async def test_lenient_mode_ignores_unknown_fields(
    http: aiohttp.ClientSession, mock_url: str
) -> None:
    body = {**BODY, "generationConfig": {"temprature": 0.5}, "whatever": {"a": 1}}
    status, _, _ = await post(http, mock_url + PATH, body)
    assert status == 200


async def test_snake_case_camel_case_int_enums_and_float_top_k_are_all_accepted(
    http: aiohttp.ClientSession, start_mock: StartMock
) -> None:
    server = await start_mock(strict=True, thinking_tokens=50)
    body = {
        "contents": [
            {"role": "user", "parts": [{"text": "Ingredients: tofu"}]},
            {
                "role": "model",
                "parts": [{"inline_data": {"mime_type": "image/png", "data": "AA=="}}],
            },
        ],
        "system_instruction": {"parts": [{"text": "Be brief."}]},
        "safety_settings": [{"category": 7, "threshold": 2}],
        "generation_config": {
            "topK": 40.0,
            "top_p": 0.9,
            "max_output_tokens": 8,
            "thinkingConfig": {"thinking_budget": 0},
        },
    }
    status, _, answer = await post(http, server.url + PATH, body)
    assert status == 200, answer
    assert answer["candidates"][0]["finishReason"] == "MAX_TOKENS"  # max_output_tokens read
    usage = answer["usageMetadata"]
    assert "thoughtsTokenCount" not in usage  # thinking_budget 0 read through snake_case
    assert usage["promptTokenCount"] == 5 + 258 + 3  # text + one image + system instruction
