"""The /_mock/ control API: config, stats, reset and Prometheus metrics (no API key)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from mock_gemini.app import RunningServer

StartMock = Callable[..., Awaitable[RunningServer]]
KEY = {"x-goog-api-key": "test-key"}
BODY = {"contents": [{"parts": [{"text": "Ingredients: rice"}]}]}
GENERATE = "/v1beta/models/gemini-2.5-flash:generateContent"


async def get_json(http: aiohttp.ClientSession, url: str) -> Any:
    async with http.get(url) as response:
        assert response.status == 200
        return await response.json()


async def test_put_config_changes_behaviour_and_get_shows_it(
    http: aiohttp.ClientSession, mock_url: str
) -> None:
    async with http.put(f"{mock_url}/_mock/config", json={"faults": {"503": 1.0}}) as response:
        assert response.status == 200
        assert (await response.json())["faults"] == {"503": 1.0}
    assert (await get_json(http, f"{mock_url}/_mock/config"))["faults"] == {"503": 1.0}
    async with http.post(mock_url + GENERATE, json=BODY, headers=KEY) as response:
        assert response.status == 503
    async with http.put(f"{mock_url}/_mock/config", json={"faults": {}}):
        pass
    async with http.post(mock_url + GENERATE, json=BODY, headers=KEY) as response:
        assert response.status == 200


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        pytest.param({"faults": {"503": 2}}, "503", id="bad-probability"),
        pytest.param({"rpmm": 5}, "rpmm", id="unknown-key"),
        pytest.param({"schedule": ["outage:9-3"]}, "outage:9-3", id="bad-window"),
        pytest.param([1, 2], "JSON object", id="not-an-object"),
    ],
)
async def test_put_config_refuses_bad_settings_with_a_reason(
    http: aiohttp.ClientSession, mock_url: str, payload: Any, needle: str
) -> None:
    async with http.put(f"{mock_url}/_mock/config", json=payload) as response:
        assert response.status == 400
        assert needle in (await response.json())["error"]["message"]
    assert (await get_json(http, f"{mock_url}/_mock/config"))["faults"] == {}


async def test_put_config_refuses_a_body_that_is_not_json(
    http: aiohttp.ClientSession, mock_url: str
) -> None:
    async with http.put(f"{mock_url}/_mock/config", data=b"{oops") as response:
        assert response.status == 400


async def test_stats_count_by_route_and_status_with_a_timeline(
    http: aiohttp.ClientSession, start_mock: StartMock
) -> None:
    server = await start_mock(rpm=2)
    for _ in range(3):
        async with http.post(server.url + GENERATE, json=BODY, headers=KEY):
            pass
    async with http.get(server.url + "/v1beta/models", headers=KEY):
        pass
    async with http.post(server.url + GENERATE, json=BODY):  # no key
        pass
    stats = await get_json(http, f"{server.url}/_mock/stats")
    assert stats["requests"] == {
        "generateContent": {"200": 2, "429": 1, "403": 1},
        "models.list": {"200": 1},
    }
    assert stats["total"] == 5 and stats["by_status"]["200"] == 3
    assert stats["in_flight"] == 0 and stats["peak_in_flight"] >= 1
    assert sum(row["requests"] for row in stats["timeline"]) == 5
    assert stats["timeline"][0]["t_s"] == 0


async def test_stats_see_requests_in_flight_now_and_at_peak(
    http: aiohttp.ClientSession, start_mock: StartMock
) -> None:
    server = await start_mock(latency=1.0)

    async def call() -> None:
        async with http.post(server.url + GENERATE, json=BODY, headers=KEY):
            pass

    tasks = [asyncio.create_task(call()) for _ in range(5)]
    for _ in range(40):
        during = await get_json(http, f"{server.url}/_mock/stats")
        if during["in_flight"] == 5:
            break
        await asyncio.sleep(0.02)
    await asyncio.gather(*tasks)
    after = await get_json(http, f"{server.url}/_mock/stats")
    assert during["in_flight"] == 5
    assert (after["in_flight"], after["peak_in_flight"]) == (0, 5)


async def test_reset_clears_the_stats(http: aiohttp.ClientSession, mock_url: str) -> None:
    async with http.post(mock_url + GENERATE, json=BODY, headers=KEY):
        pass
    async with http.post(f"{mock_url}/_mock/reset") as response:
        assert response.status == 200
    stats = await get_json(http, f"{mock_url}/_mock/stats")
    assert (stats["total"], stats["requests"], stats["timeline"]) == (0, {}, [])


_SAMPLE = re.compile(r'^([a-z_]+)(\{[a-z_]+="[^"]*"(?:,[a-z_]+="[^"]*")*\})? (\S+)$')


async def test_metrics_are_prometheus_text(http: aiohttp.ClientSession, mock_url: str) -> None:
    for headers in (KEY, KEY, {}):
        async with http.post(mock_url + GENERATE, json=BODY, headers=headers):
            pass
    async with http.get(f"{mock_url}/_mock/metrics") as response:
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = await response.text()
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert re.match(r"^# (HELP|TYPE) [a-z_]+ ", line)
            continue
        match = _SAMPLE.match(line)
        assert match, line
        samples[match.group(1) + (match.group(2) or "")] = float(match.group(3))
    requests = 'mock_gemini_requests_total{route="generateContent",status='
    assert samples[requests + '"200"}'] == 2 and samples[requests + '"403"}'] == 1
    assert samples["mock_gemini_in_flight"] == 0
    buckets = [
        v for k, v in samples.items() if k.startswith("mock_gemini_request_duration_seconds_bucket")
    ]
    assert buckets == sorted(buckets) and buckets[-1] == 3
    assert samples['mock_gemini_request_duration_seconds_count{route="generateContent"}'] == 3
    assert "# TYPE mock_gemini_request_duration_seconds histogram" in text


async def test_control_routes_need_no_key_even_with_a_key_set(
    http: aiohttp.ClientSession, start_mock: StartMock
) -> None:
    server = await start_mock(api_keys=["secret"])
    config = await get_json(http, f"{server.url}/_mock/config")
    assert "secret" not in str(config)
    for path in ("/_mock/stats", "/_mock/metrics"):
        async with http.get(server.url + path) as response:
            assert response.status == 200
