"""Response templates, model aliases and the OpenAI embeddings route."""

from __future__ import annotations

import base64
import logging
import struct
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from mock_gemini.__main__ import build_parser
from mock_gemini.config import MockConfig, MockConfigError, config_from_args

KEY = {"x-goog-api-key": "test-key"}
TEMPLATES = """
[[template]]
prompt = '(?i)pantry:\\s*(?P<shelf>\\w+)'
model = "gemini-2.5-*"
text = 'Shelf ${shelf} holds ${ingredients} (${model}).'

[[template]]
model = "gemini-2.0-flash"
file = "fixed.txt"
"""


def write_templates(tmp_path: Path) -> Path:
    (tmp_path / "fixed.txt").write_text("A fixed answer for 2.0 Flash.")
    path = tmp_path / "templates.toml"
    path.write_text(TEMPLATES)
    return path


async def generate(http: aiohttp.ClientSession, url: str, model: str, text: str, **cfg: Any) -> Any:
    body: dict[str, Any] = {"contents": [{"parts": [{"text": text}]}], "generationConfig": cfg}
    async with http.post(
        f"{url}/v1beta/models/{model}:generateContent", json=body, headers=KEY
    ) as r:
        return r.status, await r.json()


def text_of(answer: dict[str, Any]) -> str:
    return answer["candidates"][0]["content"]["parts"][0]["text"]


async def test_templates_answer_by_prompt_and_model(
    http: aiohttp.ClientSession, start_mock: Any, tmp_path: Path
) -> None:
    server = await start_mock(response_templates=str(write_templates(tmp_path)))
    url = server.url
    _, first = await generate(http, url, "gemini-2.5-pro", "Pantry: top. Ingredients: leek, kale")
    assert text_of(first) == "Shelf top holds leek, kale (gemini-2.5-pro)."
    assert first["usageMetadata"]["candidatesTokenCount"] == (len(text_of(first)) + 3) // 4
    _, fixed = await generate(http, url, "gemini-2.0-flash", "anything")
    assert text_of(fixed) == "A fixed answer for 2.0 Flash."
    _, cut = await generate(http, url, "gemini-2.0-flash", "anything", maxOutputTokens=2)
    assert text_of(cut) == "A fixed " and cut["candidates"][0]["finishReason"] == "MAX_TOKENS"
    _, other = await generate(http, url, "gemini-2.5-flash", "Ingredients: leek")
    assert "leek" in text_of(other).lower() and "Shelf" not in text_of(other)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("x = 1", "needs at least one ..template.. table", id="none"),
        pytest.param("[[template]]\ntext = 'a'", "give 'prompt'", id="no-condition"),
        pytest.param("[[template]]\nprompt = '('\ntext = 'a'", "invalid regex", id="regex"),
        pytest.param("[[template]]\nmodel = 'm'", "exactly one of .text.", id="no-text"),
        pytest.param("[[template]]\nmodel = 'm'\ntext = 'a'\nextra = 1", "unknown key", id="key"),
        pytest.param("[[template]]\nmodel = 'm'\nfile = 'gone.txt'", "cannot read file", id="file"),
    ],
)
def test_bad_templates_file_is_one_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "t.toml"
    path.write_text(content)
    with pytest.raises(MockConfigError, match=message) as caught:
        MockConfig(response_templates=str(path))
    assert str(caught.value).startswith(str(path))


def test_flags_set_templates_and_auto_call_rate(tmp_path: Path) -> None:
    path = write_templates(tmp_path)
    ns = build_parser().parse_args(["--response-templates", str(path), "--auto-call-rate", "0.25"])
    config = config_from_args(ns)
    assert config.auto_call_rate == 0.25 and len(config.templates.templates) == 2
    with pytest.raises(MockConfigError, match="auto_call_rate"):
        MockConfig(auto_call_rate=1.5)


def test_config_file_templates_path_is_relative_to_the_file(tmp_path: Path) -> None:
    write_templates(tmp_path)
    (tmp_path / "mock.toml").write_text('response_templates = "templates.toml"\n')
    assert MockConfig.from_toml(tmp_path / "mock.toml").templates


@pytest.mark.parametrize(
    "model",
    [
        pytest.param("gemini-2.0-flash-001", id="versioned"),
        pytest.param("gemini-2.5-flash-002", id="versioned-any"),
        pytest.param("gemini-flash-latest", id="flash-latest"),
        pytest.param("gemini-flash-lite-latest", id="flash-lite-latest"),
        pytest.param("gemini-1.5-flash-latest", id="model-latest"),
        pytest.param("gemini-3-pro-preview", id="preview"),
    ],
)
async def test_versioned_ids_aliases_and_previews_are_served(
    http: aiohttp.ClientSession, mock_url: str, model: str
) -> None:
    status, answer = await generate(http, mock_url, model, "Ingredients: leek")
    assert status == 200 and "leek" in text_of(answer).lower()
    async with http.get(f"{mock_url}/v1beta/models/{model}", headers=KEY) as response:
        assert (await response.json())["name"] == f"models/{model}"


async def test_unknown_model_logs_how_to_add_it_once(
    http: aiohttp.ClientSession, mock_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="mock_gemini"):
        for _ in range(2):
            status, _ = await generate(http, mock_url, "gemini-9-ultra", "hi")
            assert status == 404
    lines = [r.getMessage() for r in caplog.records if "gemini-9-ultra" in r.getMessage()]
    assert len(lines) == 1 and "--extra-model gemini-9-ultra" in lines[0]


@pytest.mark.parametrize(
    ("body", "count", "size"),
    [
        pytest.param({"input": "one"}, 1, 3072, id="single"),
        pytest.param({"input": ["a", "b"], "dimensions": 64}, 2, 64, id="list-dimensions"),
        pytest.param({"input": "x", "encoding_format": "base64"}, 1, 3072, id="base64"),
    ],
)
async def test_openai_embeddings(
    http: aiohttp.ClientSession, mock_url: str, body: dict[str, Any], count: int, size: int
) -> None:
    body = {"model": "gemini-embedding-001", **body}
    headers = {"Authorization": "Bearer k"}
    async with http.post(f"{mock_url}/v1beta/openai/embeddings", json=body, headers=headers) as r:
        assert r.status == 200
        answer = await r.json()
    assert answer["object"] == "list" and len(answer["data"]) == count
    vector = answer["data"][0]["embedding"]
    if isinstance(vector, str):
        raw = base64.b64decode(vector)
        vector = struct.unpack(f"<{len(raw) // 4}f", raw)
    assert len(vector) == size and answer["usage"]["prompt_tokens"] > 0


@pytest.mark.parametrize(
    ("body", "status"),
    [
        pytest.param({"model": "gemini-embedding-001"}, 400, id="no-input"),
        pytest.param({"model": "gemini-embedding-001", "input": [1]}, 400, id="tokens"),
        pytest.param({"model": "gemini-2.5-flash", "input": "x"}, 404, id="not-embedding"),
    ],
)
async def test_openai_embeddings_errors(
    http: aiohttp.ClientSession, mock_url: str, body: dict[str, Any], status: int
) -> None:
    headers = {"Authorization": "Bearer k"}
    async with http.post(f"{mock_url}/v1beta/openai/embeddings", json=body, headers=headers) as r:
        assert r.status == status
        assert (await r.json())[0]["error"]["code"] == status


async def test_templates_can_be_switched_on_and_off_at_run_time(
    http: aiohttp.ClientSession, mock_url: str, tmp_path: Path
) -> None:
    path = str(write_templates(tmp_path))
    async with http.put(f"{mock_url}/_mock/config", json={"response_templates": path}) as r:
        assert r.status == 200 and (await r.json())["response_templates"] == path
    _, answer = await generate(http, mock_url, "gemini-2.0-flash", "anything")
    assert text_of(answer) == "A fixed answer for 2.0 Flash."
    bad = {"response_templates": str(tmp_path / "missing.toml")}
    async with http.put(f"{mock_url}/_mock/config", json=bad) as r:
        assert r.status == 400 and "cannot read" in await r.text()
    async with http.put(f"{mock_url}/_mock/config", json={"response_templates": None}) as r:
        assert r.status == 200
    _, answer = await generate(http, mock_url, "gemini-2.0-flash", "Ingredients: leek")
    assert "leek" in text_of(answer).lower()
