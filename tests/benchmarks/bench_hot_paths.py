"""pytest-benchmark of the hot paths; kept out of the default run (files named bench_*.py).

    make bench     # pytest tests/benchmarks --benchmark-enable -o python_files='bench_*.py' ...

Each benchmark is bounded: the pedantic ones fix their rounds, the others are
pytest-benchmark's calibrated loops over microsecond-scale calls.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

import pytest
import requests
from pytest_benchmark.fixture import BenchmarkFixture

from harness.gemini import Target, build_generate_request, parse_generate_response
from harness.measure.metrics import summarize
from harness.measure.record import RequestRecord
from harness.recipes import RecipeRequest
from harness.resilience.breaker import BreakerConfig, CircuitBreaker
from harness.run.embedded import EmbeddedMock

RECORDS = 100_000


def _answer_body(recipes: int = 3) -> bytes:
    """A generateContent answer shaped like the real one, with ``recipes`` recipes."""
    recipe = {
        "title": "Garlic Chicken Fried Rice",
        "cuisine": "Asian",
        "ingredients": ["chicken", "rice", "garlic", "soy sauce"],
        "steps": ["Cook the rice.", "Brown the chicken with garlic.", "Fry it all together."],
        "prep_time_minutes": 10,
        "cook_time_minutes": 20,
        "servings": 2,
    }
    text = json.dumps([recipe] * recipes)
    answer = {
        "candidates": [
            {
                "content": {"parts": [{"text": text}], "role": "model"},
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 86,
            "candidatesTokenCount": 92,
            "totalTokenCount": 178,
        },
        "modelVersion": "gemini-2.5-flash",
        "responseId": "bench0000000001",
    }
    return json.dumps(answer).encode()


def test_parse_generate_response(benchmark: BenchmarkFixture) -> None:
    body = _answer_body()
    headers = {"Content-Type": "application/json"}
    answer = benchmark(parse_generate_response, 200, headers, body)
    assert len(answer.recipes) == 3


def _records(count: int) -> list[RequestRecord]:
    rng = random.Random(0)
    out = []
    for i in range(count):
        start_s = i * 0.001
        latency_s = rng.lognormvariate(-1.0, 0.5)
        out.append(
            RequestRecord(
                request_id=i,
                user=i % 100,
                mode="async",
                intended_start_s=start_s,
                start_s=start_s,
                first_byte_s=start_s + latency_s,
                end_s=start_s + latency_s,
                latency_s=latency_s,
                ttft_s=None,
                outcome="ok" if i % 50 else "fallback",
                status=200,
                error=None,
                attempts=1,
                retry_wait_s=0.0,
                breaker_state_at_start="closed",
                prompt_tokens=86,
                output_tokens=92,
            )
        )
    return out


def test_summarize_100k_records(benchmark: BenchmarkFixture) -> None:
    records = _records(RECORDS)
    summary = benchmark.pedantic(
        summarize,
        args=(records,),
        kwargs={"concurrency_cap": 100, "service_time_s": 0.4, "submitted": RECORDS},
        rounds=5,
        iterations=1,
        warmup_rounds=1,
    )
    assert summary["counts"]["recorded"] == RECORDS and summary["invariant_ok"]


def test_breaker_acquire_and_record(benchmark: BenchmarkFixture) -> None:
    now = [0.0]
    breaker = CircuitBreaker(BreakerConfig(), clock=lambda: now[0])

    def decide() -> None:
        now[0] += 0.001
        permit = breaker.acquire()
        assert permit is not None
        breaker.record(permit, success=True, duration_s=0.2)

    benchmark(decide)
    assert breaker.state == "closed"


@pytest.fixture(scope="module")
def zero_latency_mock() -> Iterator[str]:
    with EmbeddedMock({"latency": 0.0}) as mock:
        yield mock.url


def test_mock_request_at_zero_latency(benchmark: BenchmarkFixture, zero_latency_mock: str) -> None:
    target = Target(zero_latency_mock, "bench-key")
    request = build_generate_request(target, RecipeRequest.example(0))
    with requests.Session() as session:
        session.trust_env = False  # loopback only: no proxy from the environment

        def call() -> int:
            answer = session.post(request.url, data=request.body, headers=dict(request.headers),
                                  timeout=10)  # fmt: skip
            return answer.status_code

        status = benchmark.pedantic(call, rounds=300, iterations=1, warmup_rounds=20)
    assert status == 200
