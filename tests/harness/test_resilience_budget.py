"""The retry budget pays only for retries that are sent (injected clock, no sleeping)."""

from __future__ import annotations

import asyncio

import pytest

from harness.errors import OverloadedError
from harness.resilience import BreakerConfig, ResilienceConfig, ResiliencePolicy, RetryConfig

# One retry in the whole budget; a breaker that opens on its second failure.
ONE_RETRY = RetryConfig(max_attempts=2, base_s=1.0, jitter="none", budget_ratio=0.0,
                        budget_min_retries=1)  # fmt: skip
OPENS_ON_TWO = BreakerConfig(window_calls=2, minimum_calls=2, failure_rate_threshold=0.5)


class Clock:
    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


def overloaded(timeout_s: float) -> str:
    raise OverloadedError("503", status=503)


def static() -> str:
    return "static"


def test_a_retry_refused_by_the_breaker_after_its_backoff_is_refunded() -> None:
    clock = Clock()
    policy = ResiliencePolicy(ResilienceConfig(retry=ONE_RETRY, breaker=OPENS_ON_TWO), clock=clock)
    others = []

    def sleep(wait_s: float) -> None:
        # While this request waits, another one fails and the breaker opens.
        clock.now_s += wait_s
        others.append(policy.call_sync(overloaded, fallbacks=[static], sleep=sleep))

    result = policy.call_sync(overloaded, fallbacks=[static], sleep=sleep)
    assert [t.to_state for t in policy.transitions] == ["open"]
    assert (result.outcome, result.error, result.attempts) == ("fallback", "CircuitOpenError", 1)
    assert result.retry_wait_s == 1.0
    assert policy.budget.retries_spent == 0
    assert policy.budget.try_spend()  # the one retry is still there for a later request


def test_a_sent_retry_stays_spent() -> None:
    clock = Clock()
    config = ResilienceConfig(retry=ONE_RETRY, breaker=BreakerConfig.disabled())
    policy = ResiliencePolicy(config, clock=clock)

    def sleep(wait_s: float) -> None:
        clock.now_s += wait_s

    result = policy.call_sync(overloaded, fallbacks=[static], sleep=sleep)
    assert (result.attempts, result.error) == (2, "OverloadedError")
    assert policy.budget.retries_spent == 1
    assert not policy.budget.try_spend()


async def test_a_request_cancelled_during_its_backoff_gives_the_retry_back() -> None:
    config = ResilienceConfig(retry=ONE_RETRY, breaker=BreakerConfig.disabled())
    policy = ResiliencePolicy(config, clock=Clock())

    async def attempt(timeout_s: float) -> str:
        return overloaded(timeout_s)

    async def cancelled_sleep(wait_s: float) -> None:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await policy.call_async(attempt, sleep=cancelled_sleep)
    assert policy.budget.retries_spent == 0
    assert len(policy.attempt_times_s) == 1
