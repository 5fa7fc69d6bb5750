"""Fixtures for the mock server's tests: real servers on 127.0.0.1, port 0.

The suite imports test modules with ``--import-mode=importlib``, so shared helpers are
handed out as fixtures: ``gemini`` carries the request constants and the parsers.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from mock_gemini.app import RunningServer, start_server
from mock_gemini.config import MockConfig

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gemini"
StartMock = Callable[..., Awaitable[RunningServer]]


class GeminiHelpers:
    """Request constants and strict parsers for the tests."""

    generate_path = "/v1beta/models/gemini-2.5-flash:generateContent"
    stream_path = "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    key_headers = {"x-goog-api-key": "test-key"}  # noqa: RUF012 - read-only by convention
    recipe_body: dict[str, Any] = {  # noqa: RUF012
        "contents": [{"role": "user", "parts": [{"text": "Ingredients: chicken, rice. 2 recipes"}]}]
    }

    @staticmethod
    def fixture_json(name: str) -> Any:
        """The decoded JSON of a file in tests/fixtures/gemini (missing: the test fails)."""
        return json.loads((FIXTURES / name).read_text())

    @staticmethod
    def sse_events(raw: bytes) -> list[dict[str, Any]]:
        """Parse alt=sse strictly: only ``data: {json}\\r\\n\\r\\n`` events, nothing else."""
        assert raw.endswith(b"\r\n\r\n"), raw[-40:]
        events = []
        for block in raw[: -len(b"\r\n\r\n")].split(b"\r\n\r\n"):
            assert block.startswith(b"data: "), block[:40]
            payload = block[len(b"data: ") :]
            assert b"\n" not in payload and b"\r" not in payload
            events.append(json.loads(payload))
        return events

    @staticmethod
    def answer_text(response: dict[str, Any]) -> str:
        """The text of the first candidate ("" when it has none)."""
        candidate = response["candidates"][0]
        parts = candidate.get("content", {}).get("parts", [])
        return "".join(part.get("text", "") for part in parts)


@pytest.fixture
def gemini() -> GeminiHelpers:
    """Constants and parsers shared by the mock server tests."""
    return GeminiHelpers()


@pytest.fixture
async def start_mock() -> AsyncIterator[StartMock]:
    """``server = await start_mock(latency=0.1, faults={...})``; all stop at teardown."""
    servers: list[RunningServer] = []

    async def start(config: MockConfig | None = None, **settings: Any) -> RunningServer:
        if config is None:
            config = MockConfig.from_mapping(settings)
        server = await start_server(config, "127.0.0.1", 0)
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """One client session with no connection limit."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as client:
        yield client


@pytest.fixture
async def mock_url(start_mock: StartMock) -> str:
    """Base URL of a default mock (no latency, no faults, any key)."""
    return (await start_mock()).url
