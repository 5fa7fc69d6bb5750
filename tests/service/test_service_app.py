"""The recipe API in each mode, served by uvicorn in a thread, against the mock on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any, cast

import httpx
import pytest
import uvicorn

from harness.gemini import Target
from harness.resilience.config import preset
from harness.run.embedded import EmbeddedMock
from harness.service.app import create_app
from harness.service.models import GenerateBody
from harness.service.server import listen, url_of
from harness.service.settings import ServiceMode, ServiceSettings

MODES = [pytest.param(m, id=m) for m in ("async", "threaded", "blocking")]
BODY = {"ingredients": ["chicken", "rice"], "cuisine_type": "Asian"}
KEY = "test-key-not-a-secret"


@pytest.fixture(scope="module")
def mock_url() -> Iterator[str]:
    with EmbeddedMock({"latency": 0.05}) as mock:
        yield mock.url


@pytest.fixture(scope="module")
def slow_mock_url() -> Iterator[str]:
    with EmbeddedMock({"latency": 0.3}) as mock:
        yield mock.url


@pytest.fixture(scope="module")
def failing_mock_url() -> Iterator[str]:
    with EmbeddedMock({"faults": {"503": 1.0}}) as mock:
        yield mock.url


@contextlib.contextmanager
def serving(settings: ServiceSettings) -> Iterator[str]:
    """The app on 127.0.0.1:<free port> in a thread; yields its base URL."""
    sock = listen("127.0.0.1", 0)
    config = uvicorn.Config(
        create_app(settings), log_level="warning", access_log=False, loop="asyncio"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        assert server.started, "the service did not start"
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _settings(url: str, mode: str = "async", **kw: Any) -> ServiceSettings:
    return ServiceSettings(Target(url, KEY), mode=cast(ServiceMode, mode), **kw)


@pytest.mark.parametrize("mode", MODES)
def test_each_mode_answers_every_endpoint(mode: str, mock_url: str) -> None:
    with serving(_settings(mock_url, mode)) as url, httpx.Client(base_url=url, timeout=10) as c:
        assert c.get("/health").json() == {"status": "ok", "mode": mode}
        one = c.post("/recipes/generate", json=BODY)
        assert one.status_code == 200
        body = one.json()
        assert (body["status"], body["outcome"], body["attempts"]) == ("success", "ok", 1)
        assert len(body["recipes"]) == 3 and all(r["title"] for r in body["recipes"])
        batch = c.post("/recipes/generate-batch", json=[BODY, {"ingredients": ["egg"]}, BODY])
        assert batch.status_code == 200
        sets = batch.json()
        assert [s["outcome"] for s in sets["recipe_sets"]] == ["ok", "ok", "ok"]
        assert sets["total_recipes"] == sum(len(s["recipes"]) for s in sets["recipe_sets"]) == 9
        assert sets["concurrent_processing"] is (mode != "blocking")
        stats = c.get("/stats").json()
    assert stats["mode"] == mode and stats["breaker_state"] == "closed"
    assert stats["outcomes"] == {"ok": 4, "fallback": 0, "failed": 0}
    assert stats["requests_served"] == 2 and stats["in_flight"] == 0


BAD_BODIES = [
    pytest.param({"ingredients": []}, ["body", "ingredients"], id="no-ingredients"),
    pytest.param({}, ["body", "ingredients"], id="missing-ingredients"),
    pytest.param({"ingredients": [f"i{n}" for n in range(31)]}, ["body", "ingredients"], id="31"),
    pytest.param({"ingredients": ["x" * 101]}, ["body", "ingredients", 0], id="long-ingredient"),
    pytest.param({"ingredients": ["\t "]}, ["body", "ingredients", 0], id="blank-ingredient"),
    pytest.param(
        {"ingredients": ["egg"], "cuisine_type": "x" * 101}, ["body", "cuisine_type"], id="cuisine"
    ),
    pytest.param(
        {"ingredients": ["egg"], "dietary_preferences": ["x" * 101]},
        ["body", "dietary_preferences", 0],
        id="preference",
    ),
]


@pytest.fixture(scope="module")
def async_service(mock_url: str) -> Iterator[str]:
    with serving(_settings(mock_url)) as url:
        yield url


@pytest.mark.parametrize(("body", "loc"), BAD_BODIES)
def test_invalid_bodies_are_422_naming_the_field(
    body: dict[str, Any], loc: list[str | int], async_service: str
) -> None:
    resp = httpx.post(f"{async_service}/recipes/generate", json=body, timeout=10)
    assert resp.status_code == 422
    detail = resp.json()["detail"]
    assert [item["loc"] for item in detail] == [loc]
    assert detail[0]["msg"] and detail[0]["type"]
    assert "x" * 101 not in resp.text  # the input is not echoed back


def test_white_space_counts_in_the_length_and_is_dropped_from_the_request(
    async_service: str,
) -> None:
    # The OpenAPI's maxLength is what is checked: the text as sent, white space included.
    url = f"{async_service}/recipes/generate"
    assert httpx.post(url, json={"ingredients": [" egg" + "g" * 96]}, timeout=10).status_code == 200
    assert httpx.post(url, json={"ingredients": [" egg" + "g" * 97]}, timeout=10).status_code == 422
    body = GenerateBody.model_validate({"ingredients": [" egg\t"], "cuisine_type": "\nThai "})
    request = body.to_request()
    assert (request.ingredients, request.cuisine_type) == (("egg",), "Thai")


def test_thirty_ingredients_of_100_chars_are_accepted(async_service: str) -> None:
    body = {"ingredients": [f"{n:02d}" + "y" * 98 for n in range(30)]}
    assert httpx.post(f"{async_service}/recipes/generate", json=body, timeout=10).status_code == 200


@pytest.mark.parametrize("mode", MODES)
def test_a_batch_over_five_is_400(mode: str, mock_url: str) -> None:
    with serving(_settings(mock_url, mode)) as url:
        resp = httpx.post(f"{url}/recipes/generate-batch", json=[BODY] * 6, timeout=10)
        stats = httpx.get(f"{url}/stats", timeout=10).json()
    assert resp.status_code == 400
    assert resp.json()["detail"].startswith("Maximum 5 requests per batch")
    assert stats["outcomes"] == {"ok": 0, "fallback": 0, "failed": 0}  # nothing was generated


@pytest.mark.parametrize("mode", MODES)
def test_upstream_faults_end_in_fallback_recipes(mode: str, failing_mock_url: str) -> None:
    settings = _settings(failing_mock_url, mode, resilience=preset("seed"))
    with serving(settings) as url, httpx.Client(base_url=url, timeout=10) as c:
        body = c.post("/recipes/generate", json=BODY).json()
        batch = c.post("/recipes/generate-batch", json=[BODY, BODY]).json()
        stats = c.get("/stats").json()
    assert (body["status"], body["outcome"]) == ("fallback", "fallback")
    assert body["error"] and len(body["recipes"]) == 3
    assert [s["status"] for s in batch["recipe_sets"]] == ["fallback", "fallback"]
    assert stats["outcomes"]["fallback"] == 3 and stats["outcomes"]["ok"] == 0


@pytest.mark.parametrize("mode", MODES)
def test_failure_without_fallback_is_502_with_a_json_detail(
    mode: str, failing_mock_url: str
) -> None:
    settings = _settings(failing_mock_url, mode, resilience=preset("none"))
    with serving(settings) as url, httpx.Client(base_url=url, timeout=10) as c:
        resp = c.post("/recipes/generate", json=BODY)
        batch = c.post("/recipes/generate-batch", json=[BODY, BODY])
    assert resp.status_code == 502
    detail = resp.json()["detail"]
    assert detail["outcome"] == "failed" and detail["attempts"] == 1
    assert detail["error"] in detail["message"] and "HTTP 503" in detail["message"]
    assert "Traceback" not in resp.text and KEY not in resp.text
    # A batch isolates failures: 200, each item says it failed.
    assert batch.status_code == 200
    assert [s["outcome"] for s in batch.json()["recipe_sets"]] == ["failed", "failed"]


async def _concurrent_posts(url: str, n: int) -> tuple[list[int], float]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as c:
        started = time.perf_counter()
        answers = await asyncio.gather(*(c.post("/recipes/generate", json=BODY) for _ in range(n)))
        return [a.status_code for a in answers], time.perf_counter() - started


@pytest.mark.parametrize(
    ("mode", "peak"),
    [
        pytest.param("async", 6, id="async"),
        pytest.param("threaded", 6, id="threaded"),
        pytest.param("blocking", 1, id="blocking"),
    ],
)
async def test_only_blocking_mode_serves_one_at_a_time(
    mode: str, peak: int, slow_mock_url: str
) -> None:
    with serving(_settings(slow_mock_url, mode)) as url:
        statuses, elapsed_s = await _concurrent_posts(url, 6)
        async with httpx.AsyncClient(base_url=url, timeout=10) as c:
            stats = (await c.get("/stats")).json()
    assert statuses == [200] * 6
    assert stats["peak_in_flight"] == peak
    if mode == "blocking":
        assert elapsed_s >= 6 * 0.3
    else:
        assert elapsed_s < 3 * 0.3


@pytest.mark.parametrize(
    ("mode", "limit", "expected_peak"),
    [
        pytest.param("async", {"concurrency": 3}, 3, id="async-concurrency-3"),
        pytest.param("threaded", {"workers": 3}, 3, id="threaded-workers-3"),
        # 50 > anyio's default of 40 threads: --workers must have raised the limiter.
        pytest.param("threaded", {"workers": 60}, 50, id="threaded-workers-60"),
    ],
)
async def test_limits_cap_generations_in_flight(
    mode: str, limit: dict[str, int], expected_peak: int, slow_mock_url: str
) -> None:
    n = 8 if expected_peak == 3 else 50
    with serving(_settings(slow_mock_url, mode, **limit)) as url:
        statuses, _ = await _concurrent_posts(url, n)
        async with httpx.AsyncClient(base_url=url, timeout=10) as c:
            stats = (await c.get("/stats")).json()
    assert statuses == [200] * n
    if expected_peak == 3:
        assert stats["peak_in_flight"] == 3
    else:  # a loaded machine may not have all 50 posts out within the mock's 0.3 s
        assert 40 < stats["peak_in_flight"] <= expected_peak  # past anyio's 40 threads
    assert stats["limit"] == next(iter(limit.values()))


async def test_threaded_batches_share_the_workers_limit(slow_mock_url: str) -> None:
    """Endpoint threads and the batch pool together never have more than ``workers`` out."""
    with serving(_settings(slow_mock_url, "threaded", workers=3)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as c:
            singles = [c.post("/recipes/generate", json=BODY) for _ in range(3)]
            batches = [c.post("/recipes/generate-batch", json=[BODY] * 5) for _ in range(2)]
            answers = await asyncio.gather(*batches, *singles)
            stats = (await c.get("/stats")).json()
    assert [a.status_code for a in answers] == [200] * 5
    assert stats["outcomes"]["ok"] == 13
    assert stats["peak_in_flight"] == 3 == stats["limit"]
