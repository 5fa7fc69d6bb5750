"""Every design speaking OpenAI chat completions to the real mock's OpenAI routes: the same
record invariant, metrics and error classes as the Gemini path."""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Iterator
from typing import Any

import pytest

from harness.gemini import Target
from harness.generators import REGISTRY
from harness.generators.base import RequestRecord, Workload
from harness.measure.metrics import check_invariant, summarize
from harness.resilience.config import ResilienceConfig, preset
from harness.run.design import run_mode
from harness.run.embedded import EmbeddedMock
from harness.run.plan import CompareSpec, concurrency_cap
from harness.run.runner import reset_mock

MODES = [pytest.param(m, id=m) for m in ("sequential", "threaded", "async", "sdk") if m in REGISTRY]
ROUTES = [pytest.param("/v1beta/openai", id="v1beta-openai"), pytest.param("/v1", id="v1")]


@pytest.fixture(scope="module")
def mock_url() -> Iterator[str]:
    with EmbeddedMock({"latency": 0.05, "tokens_per_s": 20000}) as mock:
        yield mock.url


@pytest.fixture(scope="module")
def paced_url() -> Iterator[str]:
    with EmbeddedMock({"latency": 0.05, "tokens_per_s": 400}) as mock:
        yield mock.url


def _target(url: str, prefix: str = "/v1beta/openai", model: str = "gemini-2.5-flash") -> Target:
    return Target(url + prefix, "test-key", model, api="openai")


def _run(
    mode: str,
    target: Target,
    users: int = 3,
    rpu: int = 1,
    resilience: ResilienceConfig | None = None,
    reset: str | None = None,
    **spec_kw: Any,
) -> list[RequestRecord]:
    policy = resilience or preset("none")
    spec = CompareSpec((mode,), (users,), rpu, resilience=policy, **spec_kw)
    cap = concurrency_cap(mode, users, spec)
    on_start = functools.partial(reset_mock, reset) if reset else None  # schedule from 0
    records = run_mode(mode, target, Workload(users, rpu), cap, spec, on_start=on_start).records
    assert check_invariant(records, range(users * rpu)) == []
    return records


@pytest.mark.parametrize("prefix", ROUTES)
@pytest.mark.parametrize("mode", MODES)
def test_every_design_gets_recipes_and_usage(mode: str, prefix: str, mock_url: str) -> None:
    records = _run(mode, _target(mock_url, prefix), users=2, rpu=2)
    for r in records:
        assert (r.mode, r.outcome, r.status, r.error, r.attempts) == (mode, "ok", 200, None, 1)
        assert r.prompt_tokens and r.output_tokens
        assert r.first_byte_s is not None and r.start_s <= r.first_byte_s <= r.end_s
        assert r.latency_s >= 0.05 and r.ttft_s is None
        assert r.service_s is not None  # X-Mock-Service-Time reaches the record


@pytest.mark.parametrize("mode", MODES)
def test_every_design_streams_with_token_timing(mode: str, paced_url: str) -> None:
    records = _run(mode, _target(paced_url), users=2, stream=True)
    for r in records:
        assert r.outcome == "ok" and r.output_tokens
        assert r.ttft_s is not None and r.itl_s is not None and r.tpot_s is not None
        assert 0.05 <= r.ttft_s < r.latency_s
        assert 0.0015 < r.itl_s < 0.01 and 0.0015 < r.tpot_s < 0.01  # 400 tokens/s
    summary = summarize(records, concurrency_cap=2, service_time_s=None, submitted=2)
    assert summary["ttft_s"]["p50"] >= 0.05 and summary["output_tokens_per_s"] > 0


def test_openai_and_gemini_records_agree(mock_url: str) -> None:
    gemini = _run("async", Target(mock_url, "k"), users=2, stream=True)
    openai = _run("async", _target(mock_url), users=2, stream=True)
    # The same prompt; the answers differ only by the {"recipes": …} wrapper of the schema.
    assert [r.prompt_tokens for r in gemini] == [r.prompt_tokens for r in openai]
    for g, o in zip(gemini, openai, strict=True):
        assert o.output_tokens == pytest.approx(g.output_tokens, rel=0.05)
        assert (g.ttft_s is None) == (o.ttft_s is None) == (g.itl_s is None) == (o.itl_s is None)


FAULTS = [
    pytest.param("429", "RateLimitedError", 429, id="429"),
    pytest.param("500", "ServerError", 500, id="500"),
    pytest.param("503", "OverloadedError", 503, id="503"),
    pytest.param("safety", "BlockedAnswerError", 200, id="safety"),
]


@pytest.fixture(scope="module")
def fault_urls() -> Iterator[dict[str, str]]:
    with contextlib.ExitStack() as stack:
        yield {
            kind: stack.enter_context(EmbeddedMock({"latency": 0.0, "faults": {kind: 1.0}})).url
            for kind in (param.values[0] for param in FAULTS)
        }


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("fault", "error", "status"), FAULTS)
def test_errors_map_into_the_one_tree(
    mode: str, fault: str, error: str, status: int, fault_urls: dict[str, str]
) -> None:
    records = _run(mode, _target(fault_urls[fault]), users=2)
    assert {(r.outcome, r.error, r.status) for r in records} == {("failed", error, status)}


@pytest.mark.parametrize("mode", MODES)
def test_a_429_waits_as_long_as_it_is_told_then_succeeds(mode: str) -> None:
    # The mock's 429 says "retry in 1s" (RetryInfo and message); the first request meets
    # it, a retry after the 1.5 s window succeeds.
    config = {"latency": 0.0, "schedule": ["outage:0-1.5:429"]}
    retry = {"max_attempts": 4, "base_s": 0.05, "jitter": "none", "budget_ratio": "none"}
    policy = ResilienceConfig.from_mapping({"preset": "none", "retry": retry}, "test")
    with EmbeddedMock(config) as mock:
        records = _run(mode, _target(mock.url), users=1, resilience=policy, reset=mock.url)
    (r,) = records
    assert (r.outcome, r.status) == ("ok", 200) and r.attempts >= 2
    assert r.retry_wait_s >= 0.99


@pytest.mark.parametrize("mode", MODES)
def test_a_mid_stream_error_event_fails_the_request(mode: str) -> None:
    config = {"latency": 0.0, "tokens_per_s": 1000, "faults": {"stream_error": 1.0}}
    with EmbeddedMock(config) as mock:
        records = _run(mode, _target(mock.url), users=2, stream=True)
    assert {(r.outcome, r.error) for r in records} == {("failed", "ServerError")}


@pytest.mark.parametrize("mode", MODES)
def test_a_hang_is_bounded_by_the_timeout(mode: str) -> None:
    policy = ResilienceConfig.from_mapping({"preset": "none", "attempt_timeout_s": 0.3}, "test")
    with EmbeddedMock({"latency": 0.0, "faults": {"hang": 1.0}, "hang_max_s": 10}) as mock:
        started = time.perf_counter()
        records = _run(mode, _target(mock.url), users=2, resilience=policy)
        elapsed = time.perf_counter() - started
    assert {r.error for r in records} == {"UpstreamTimeoutError"}
    assert elapsed < 8.0


def test_bad_key_and_unknown_model() -> None:
    with EmbeddedMock({"latency": 0.0, "api_keys": ["good-key"]}) as mock:
        bad_key = _run("async", Target(mock.url + "/v1", "wrong", api="openai"), users=2)
        unknown = _run("async", Target(mock.url + "/v1", "good-key", "nope-9", api="openai"))
    assert {(r.error, r.status) for r in bad_key} == {("BadKeyError", 400)}
    assert {(r.error, r.status) for r in unknown} == {("ClientError", 404)}
