"""call_async's first attempt skips the step machinery: it must decide exactly as call_sync.

Each case runs the same scripted upstream through ``call_sync`` (always the step
generator) and ``call_async`` (the first attempt awaited directly) on fresh policies and
compares the results and the policy's bookkeeping (breaker counts and state, retry
budget, attempt and fast-fail times).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from harness.errors import ClientError, OverloadedError, UpstreamTimeoutError
from harness.resilience import (
    BreakerConfig,
    CallResult,
    ResilienceConfig,
    ResiliencePolicy,
    RetryConfig,
)

BREAKER = BreakerConfig(window_calls=2, minimum_calls=2, failure_rate_threshold=1.0, open_s=60)
CONFIG = ResilienceConfig(retry=RetryConfig(jitter="none", base_s=0.1), breaker=BREAKER)


class Clock:
    """Moves only when something sleeps or an attempt takes its scripted time."""

    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s

    def sleep(self, wait_s: float) -> None:
        self.now_s += wait_s

    async def asleep(self, wait_s: float) -> None:
        self.now_s += wait_s


def ok() -> str:
    return "answer"


def overloaded() -> str:
    raise OverloadedError("503", status=503)


def client_error() -> str:
    raise ClientError("400", status=400)


def bug() -> str:
    raise KeyError("a bug in the caller")


Script = Sequence[Callable[[], str]]


def run_both(script: Script, calls: int) -> tuple[list[Any], list[Any]]:
    """The results and bookkeeping of ``calls`` calls, sync then async, on fresh policies."""
    sync_clock, async_clock = Clock(), Clock()
    sync_policy = ResiliencePolicy(CONFIG, clock=sync_clock)
    async_policy = ResiliencePolicy(CONFIG, clock=async_clock)
    sync_steps, async_steps = iter(script), iter(script)

    def attempt(timeout_s: float) -> str:
        sync_clock.now_s += 0.01
        return next(sync_steps)()

    async def attempt_async(timeout_s: float) -> str:
        async_clock.now_s += 0.01
        return next(async_steps)()

    async def fallback() -> str:
        return "static"

    async def run_async() -> list[CallResult[str]]:
        return [
            await async_policy.call_async(
                attempt_async, fallbacks=[fallback], sleep=async_clock.asleep
            )
            for _ in range(calls)
        ]

    sync_results = [
        sync_policy.call_sync(attempt, fallbacks=[lambda: "static"], sleep=sync_clock.sleep)
        for _ in range(calls)
    ]
    async_results = asyncio.run(run_async())
    return (
        [sync_results, bookkeeping(sync_policy)],
        [async_results, bookkeeping(async_policy)],
    )


def bookkeeping(policy: ResiliencePolicy) -> tuple[Any, ...]:
    return (
        policy.breaker.counts,
        policy.breaker.state,
        [t.to_dict() for t in policy.transitions],
        policy.budget.first_attempts,
        policy.budget.retries_spent,
        policy.attempt_times_s,
        policy.fast_fail_times_s,
    )


@pytest.mark.parametrize(
    ("script", "calls"),
    [
        pytest.param([ok, ok, ok], 3, id="first-attempt-succeeds"),
        pytest.param([overloaded, ok], 1, id="retried-then-ok"),
        pytest.param([overloaded] * 3, 1, id="retries-exhausted-then-fallback"),
        pytest.param([client_error], 1, id="not-retryable"),
        pytest.param([bug], 1, id="bug-in-the-attempt"),
        pytest.param([overloaded] * 6 + [ok], 3, id="breaker-opens-then-fails-fast"),
    ],
)
def test_async_fast_path_decides_as_the_sync_step_path(script: Script, calls: int) -> None:
    sync_side, async_side = run_both(script, calls)
    assert async_side == sync_side


def test_first_attempt_success_is_one_ok_attempt_with_status_200() -> None:
    _, (results, book) = run_both([ok], 1)
    assert results[0] == CallResult("answer", "ok", 1, 0.0, "closed", None, 200, None)
    assert (book[0].permitted, book[0].recorded) == (1, 1)


def test_breaker_open_fast_fails_without_calling_the_attempt() -> None:
    _, (results, book) = run_both([overloaded] * 6, 3)
    assert [r.outcome for r in results] == ["fallback"] * 3
    assert results[-1].attempts == 0
    assert results[-1].error == "CircuitOpenError"
    assert book[1] == "open"
    # The first call's two attempts open the breaker; the next two calls never attempt.
    assert (len(book[5]), len(book[6])) == (2, 2)


async def test_cancelled_first_attempt_gives_its_permit_back() -> None:
    policy = ResiliencePolicy(CONFIG, clock=Clock())
    started = asyncio.Event()

    async def hang(timeout_s: float) -> str:
        started.set()
        await asyncio.sleep(60)
        return "never"

    task = asyncio.create_task(policy.call_async(hang))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    counts = policy.breaker.counts
    assert (counts.permitted, counts.cancelled, counts.recorded) == (1, 1, 0)


async def test_first_attempt_is_still_bounded_by_the_async_timeout() -> None:
    config = ResilienceConfig(
        attempt_timeout_s=0.05,
        retry=RetryConfig(max_attempts=1),
        breaker=BreakerConfig.disabled(),
    )
    policy = ResiliencePolicy(config, clock=asyncio.get_running_loop().time)

    async def hang(timeout_s: float) -> str:
        await asyncio.sleep(60)
        return "never"

    result = await asyncio.wait_for(policy.call_async(hang), timeout=10)
    assert (result.outcome, result.attempts) == ("failed", 1)
    assert result.error == UpstreamTimeoutError.__name__
