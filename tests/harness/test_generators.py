"""Every design against the real mock on loopback: complete records, mapped errors."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from harness.gemini import Target
from harness.generators import REGISTRY
from harness.generators.base import RequestRecord, Workload
from harness.resilience.config import ResilienceConfig, preset
from harness.run.design import run_mode
from harness.run.embedded import EmbeddedMock
from harness.run.plan import CompareSpec, concurrency_cap

MODES = [pytest.param(m, id=m) for m in ("sequential", "threaded", "async", "sdk") if m in REGISTRY]
NO_RESILIENCE = preset("none")


@pytest.fixture(scope="module")
def fast_mock() -> Iterator[str]:
    with EmbeddedMock({"latency": 0.02}) as mock:
        yield mock.url


def _target(url: str, key: str = "test-key", model: str = "gemini-2.5-flash") -> Target:
    return Target(url, key, model)


def _run(
    mode: str,
    target: Target,
    users: int,
    rpu: int = 1,
    resilience: ResilienceConfig = NO_RESILIENCE,
    **spec_kw: Any,
) -> list[RequestRecord]:
    spec = CompareSpec((mode,), (users,), rpu, resilience=resilience, **spec_kw)
    workload = Workload(users, rpu)
    return run_mode(mode, target, workload, concurrency_cap(mode, users, spec), spec).records


@pytest.mark.parametrize("mode", MODES)
def test_records_are_complete_and_consistent(mode: str, fast_mock: str) -> None:
    records = _run(mode, _target(fast_mock), users=4, rpu=2)
    assert sorted(r.request_id for r in records) == list(range(8))
    for r in records:
        assert r.mode == mode and r.outcome == "ok" and r.status == 200 and r.error is None
        assert r.intended_start_s <= r.start_s + 1e-9
        assert r.first_byte_s is not None and r.start_s <= r.first_byte_s <= r.end_s
        assert r.latency_s == pytest.approx(r.end_s - r.start_s)
        assert r.latency_s >= 0.02
        assert r.attempts == 1 and r.retry_wait_s == 0
        assert r.prompt_tokens and r.output_tokens
        assert r.breaker_state_at_start == "closed"
    for user in range(4):
        first, second = sorted((r for r in records if r.user == user), key=lambda r: r.request_id)
        assert second.start_s >= first.end_s  # a user sends its requests one after another
        assert second.intended_start_s == pytest.approx(first.end_s)


FAULTS = [
    pytest.param("429", "RateLimitedError", 429, id="429"),
    pytest.param("500", "ServerError", 500, id="500"),
    pytest.param("503", "OverloadedError", 503, id="503"),
    pytest.param("504", "ServerError", 504, id="504"),
    pytest.param("malformed", "MalformedAnswerError", 200, id="malformed"),
    pytest.param("safety", "BlockedAnswerError", 200, id="safety"),
    pytest.param("reset", "ConnectionFailedError", None, id="reset"),
]


@pytest.fixture(scope="module")
def fault_mocks() -> Iterator[dict[str, str]]:
    mocks = {}
    try:
        for param in FAULTS:
            kind = param.values[0]
            mock = EmbeddedMock({"latency": 0.0, "faults": {kind: 1.0}}).__enter__()
            mocks[kind] = mock
        yield {kind: m.url for kind, m in mocks.items()}
    finally:
        for mock in mocks.values():
            mock.stop()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("fault", "error", "status"), FAULTS)
def test_each_error_class_is_recorded(
    mode: str, fault: str, error: str, status: int | None, fault_mocks: dict[str, str]
) -> None:
    records = _run(mode, _target(fault_mocks[fault]), users=3)
    assert len(records) == 3
    for r in records:
        assert (r.outcome, r.error) == ("failed", error)
        if status is not None:
            assert r.status == status


@pytest.mark.parametrize("mode", MODES)
def test_bad_key_and_unknown_model(mode: str) -> None:
    with EmbeddedMock({"latency": 0.0, "api_keys": ["good-key"]}) as mock:
        bad_key = _run(mode, _target(mock.url, key="wrong-key"), users=2)
        bad_model = _run(mode, _target(mock.url, key="good-key", model="gemini-9-ultra"), users=2)
    assert {(r.error, r.status) for r in bad_key} == {("BadKeyError", 400)}
    assert {(r.error, r.status) for r in bad_model} == {("ClientError", 404)}


@pytest.mark.parametrize("mode", MODES)
def test_a_hang_is_bounded_by_the_timeout(mode: str) -> None:
    config = ResilienceConfig.from_mapping({"preset": "none", "attempt_timeout_s": 0.3}, "test")
    with EmbeddedMock({"latency": 0.0, "faults": {"hang": 1.0}, "hang_max_s": 10}) as mock:
        started = time.perf_counter()
        records = _run(mode, _target(mock.url), users=2, resilience=config)
        elapsed = time.perf_counter() - started
    assert {r.error for r in records} == {"UpstreamTimeoutError"}
    assert all(0.25 <= r.latency_s < 3.0 for r in records)
    assert elapsed < 8.0


@pytest.mark.parametrize("mode", MODES)
def test_fallback_recipes_answer_when_the_upstream_fails(
    mode: str, fault_mocks: dict[str, str]
) -> None:
    config = ResilienceConfig.from_mapping({"preset": "default", "retry": {"max_attempts": 1}}, "t")
    records = _run(mode, _target(fault_mocks["500"]), users=2, resilience=config)
    assert {(r.outcome, r.error, r.status) for r in records} == {("fallback", "ServerError", 500)}
