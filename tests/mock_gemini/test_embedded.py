"""Embedding the mock: ``serve_mock`` on the running loop, ``start_mock_in_thread`` beside it."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from typing import Any

import aiohttp
import pytest

from mock_gemini import MockConfig, MockConfigError, serve_mock, start_mock_in_thread

PATH = "/v1beta/models/gemini-2.5-flash:generateContent"
BODY = json.dumps({"contents": [{"parts": [{"text": "Ingredients: corn"}]}]}).encode()


def post(url: str) -> tuple[int, Any]:
    """A blocking POST, as a thread-based client would send it."""
    request = urllib.request.Request(
        url + PATH, data=BODY, headers={"x-goog-api-key": "k", "Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_thread_mock_serves_counts_and_updates_config() -> None:
    with start_mock_in_thread(MockConfig()) as mock:
        assert mock.url.startswith("http://127.0.0.1:")
        assert post(mock.url)[0] == 200
        mock.update_config({"faults": {"500": 1.0}})
        status, body = post(mock.url)
        assert (status, body["error"]["status"]) == (500, "INTERNAL")
        assert mock.stats()["requests"]["generateContent"] == {"200": 1, "500": 1}
        mock.reset()
        assert mock.stats()["total"] == 0


def test_thread_mock_refuses_bad_changes_and_keeps_serving() -> None:
    with start_mock_in_thread() as mock:
        with pytest.raises(MockConfigError, match="rpm"):
            mock.update_config({"rpm": "lots"})
        assert post(mock.url)[0] == 200


def test_thread_mock_stop_is_idempotent_and_frees_the_port() -> None:
    mock = start_mock_in_thread()
    url = mock.url
    mock.stop()
    mock.stop()
    with pytest.raises(urllib.error.URLError):
        post(url)
    assert not [t for t in threading.enumerate() if t.name == "mock_gemini"]


def test_thread_mock_reports_a_port_in_use() -> None:
    with start_mock_in_thread() as mock:
        port = int(mock.url.rsplit(":", 1)[1])
        with pytest.raises(OSError):
            start_mock_in_thread(port=port)


def test_many_thread_mocks_run_side_by_side() -> None:
    mocks = [start_mock_in_thread() for _ in range(3)]
    try:
        assert len({m.url for m in mocks}) == 3
        assert all(post(m.url)[0] == 200 for m in mocks)
    finally:
        for mock in mocks:
            mock.stop()


async def test_serve_mock_runs_on_the_current_loop() -> None:
    config = MockConfig.from_mapping({"latency": 0.05})
    async with serve_mock(config) as server, aiohttp.ClientSession() as http:
        headers = {"x-goog-api-key": "k"}
        async with http.post(server.url + PATH, data=BODY, headers=headers) as response:
            assert response.status == 200
        assert server.stats()["requests"] == {"generateContent": {"200": 1}}
        assert server.update_config({"faults": {"503": 1.0}}).faults
        async with http.post(server.url + PATH, data=BODY, headers=headers) as response:
            assert response.status == 503
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectionError):
            await http.post(server.url + PATH, data=BODY)
