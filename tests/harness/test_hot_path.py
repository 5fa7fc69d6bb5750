"""The async design's hot path: each shortcut must give exactly what the long way gives.

- ``call_async(self_bounded=True)`` leaves out the outer ``asyncio.timeout`` (the attempt
  bounds itself), and only then;
- ``send_async_then`` parses in the same coroutine and maps failures like ``send_async``;
- ``parse_answer`` answers a repeated text from its one-entry cache, a new text afresh;
- bench-self's ratios are the median of per-round ratios.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Iterator

import aiohttp
import pytest

from harness.errors import ConnectionFailedError, UpstreamTimeoutError
from harness.gemini import Target, build_generate_request
from harness.generators.common import Answered, answered, parse_answer
from harness.generators.transport import _client_timeout, send_async, send_async_then
from harness.recipes import RecipeRequest
from harness.resilience.breaker import BreakerConfig
from harness.resilience.config import ResilienceConfig, RetryConfig
from harness.resilience.policy import ASYNC_TIMEOUT_GRACE_S, ResiliencePolicy
from harness.run.bench_self import paired_ratio
from harness.run.embedded import EmbeddedMock

ONE_SHOT = ResilienceConfig(
    attempt_timeout_s=0.05,
    retry=RetryConfig(max_attempts=1),
    breaker=BreakerConfig.disabled(),
    fallback=False,
)


async def _late(timeout_s: float) -> str:
    """An attempt that ignores its timeout and answers after the outer timer's limit."""
    await asyncio.sleep(timeout_s + ASYNC_TIMEOUT_GRACE_S + 0.1)
    return "late"


async def test_an_attempt_that_is_not_self_bounded_is_cut_by_the_outer_timer() -> None:
    policy = ResiliencePolicy(ONE_SHOT, clock=time.perf_counter)
    result = await policy.call_async(_late)
    assert (result.outcome, result.error) == ("failed", UpstreamTimeoutError.__name__)


async def test_a_self_bounded_attempt_gets_no_second_timer() -> None:
    policy = ResiliencePolicy(ONE_SHOT, clock=time.perf_counter)
    result = await policy.call_async(_late, self_bounded=True)
    assert (result.outcome, result.value) == ("ok", "late")


@pytest.fixture(scope="module")
def mock_url() -> Iterator[str]:
    with EmbeddedMock({"latency": 0.0}) as mock:
        yield mock.url


async def test_send_async_then_parses_in_the_same_call(mock_url: str) -> None:
    req = build_generate_request(Target(mock_url, "k"), RecipeRequest.example(1))
    async with aiohttp.ClientSession() as session:
        got = await send_async_then(session, req, 10.0, clock=time.perf_counter, then=answered)
        plain = answered(await send_async(session, req, 10.0, time.perf_counter))
    assert isinstance(got, Answered) and got.status == 200
    assert got.answer.recipes == plain.answer.recipes and len(got.answer.recipes) == 3


async def test_send_async_then_maps_a_refused_connection_without_the_url() -> None:
    req = build_generate_request(Target("http://127.0.0.1:9", "k"), RecipeRequest.example(0))
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ConnectionFailedError) as caught:
            await send_async_then(session, req, 5.0, clock=time.perf_counter, then=answered)
    assert "127.0.0.1:9" in str(caught.value) and "key=" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_the_aiohttp_timeout_is_exact_so_the_attempt_bounds_itself() -> None:
    timeout = _client_timeout(30.0)
    assert timeout.total == 30.0 and timeout.ceil_threshold == math.inf  # never rounded up


def _body(text: str) -> bytes:
    answer = {
        "candidates": [{"content": {"parts": [{"text": text}]}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 9},
        "modelVersion": "m",
        "responseId": "r",
    }
    return json.dumps(answer).encode()


def _recipe_text(title: str) -> str:
    recipe = {"title": title, "ingredients": ["a"], "steps": ["b"], "prep_time_minutes": 1,
              "cook_time_minutes": 2, "servings": 1}  # fmt: skip
    return json.dumps([recipe])


def test_a_repeated_answer_text_is_validated_once_and_a_new_one_afresh() -> None:
    first = parse_answer({}, _body(_recipe_text("Soup")))
    again = parse_answer({}, bytes(bytearray(_body(_recipe_text("Soup")))))  # a new object
    other = parse_answer({}, _body(_recipe_text("Stew")))
    assert again.recipes is first.recipes  # the cached tuple
    assert [r.title for r in other.recipes] == ["Stew"]
    assert (first.prompt_tokens, first.output_tokens, first.finish_reason) == (5, 9, "STOP")


def test_paired_ratio_is_the_median_of_the_rounds_ratios() -> None:
    ours = [{"rps": 90.0}, {"rps": 50.0}, {"rps": 120.0}]
    theirs = [{"rps": 100.0}, {"rps": 100.0}, {"rps": 100.0}]
    assert paired_ratio(ours, theirs) == pytest.approx(0.9)
