"""The policy: retries, deadline, breaker fast fail, fallbacks; sync and async agree."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import pytest

from harness.errors import (
    BadKeyError,
    ClientError,
    OverloadedError,
    RateLimitedError,
    ServerError,
    UpstreamTimeoutError,
)
from harness.resilience import (
    PRESETS,
    BreakerConfig,
    CallResult,
    ResilienceConfig,
    ResiliencePolicy,
    RetryConfig,
)

NO_JITTER = RetryConfig(jitter="none")
QUIET = ResilienceConfig(retry=NO_JITTER, breaker=BreakerConfig.disabled())


class Clock:
    """A run clock that only moves when something sleeps or an attempt takes time."""

    def __init__(self) -> None:
        self.now_s = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now_s

    def sleep(self, wait_s: float) -> None:
        self.sleeps.append(wait_s)
        self.now_s += wait_s

    async def asleep(self, wait_s: float) -> None:
        self.sleep(wait_s)


class Upstream:
    """Scripted attempts: each call takes ``duration_s`` and answers the next item."""

    def __init__(self, clock: Clock, script: Sequence[Callable[[], Any]], duration_s: float = 0.0):
        self.clock = clock
        self.script = list(script)
        self.duration_s = duration_s
        self.timeouts_s: list[float] = []

    def __call__(self, timeout_s: float) -> Any:
        self.timeouts_s.append(timeout_s)
        self.clock.now_s += self.duration_s
        item = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        return item()

    async def call_async(self, timeout_s: float) -> Any:
        return self(timeout_s)


def ok(value: str = "recipes") -> Callable[[], str]:
    return lambda: value


def fail(make: Callable[[], Exception]) -> Callable[[], Any]:
    def raise_it() -> Any:
        raise make()

    return raise_it


def overloaded() -> Exception:
    return OverloadedError("503 UNAVAILABLE", status=503)


def run_sync(
    config: ResilienceConfig,
    script: Sequence[Callable[[], Any]],
    fallbacks: Sequence[Callable[[], Any]] = (),
    duration_s: float = 0.0,
) -> tuple[CallResult[Any], Clock, Upstream]:
    clock = Clock()
    upstream = Upstream(clock, script, duration_s)
    policy = ResiliencePolicy(config, clock=clock, rng_seed=3)
    return policy.call_sync(upstream, fallbacks=fallbacks, sleep=clock.sleep), clock, upstream


async def run_async(
    config: ResilienceConfig,
    script: Sequence[Callable[[], Any]],
    fallbacks: Sequence[Callable[[], Any]] = (),
    duration_s: float = 0.0,
) -> tuple[CallResult[Any], Clock, Upstream]:
    clock = Clock()
    upstream = Upstream(clock, script, duration_s)
    policy = ResiliencePolicy(config, clock=clock, rng_seed=3)

    def wrap(fallback: Callable[[], Any]) -> Callable[[], Any]:
        async def call() -> Any:
            return fallback()

        return call

    result = await policy.call_async(
        upstream.call_async, fallbacks=[wrap(f) for f in fallbacks], sleep=clock.asleep
    )
    return result, clock, upstream


SCRIPTS = [
    pytest.param([ok()], (), id="ok-first-time"),
    pytest.param([fail(overloaded), fail(overloaded), ok()], (), id="ok-on-third"),
    pytest.param([fail(overloaded)], [ok("static")], id="outage-then-fallback"),
    pytest.param([fail(lambda: ClientError("400", status=400))], [ok("static")], id="400-no-retry"),
    pytest.param(
        [fail(lambda: RateLimitedError("429", retry_delay_s=3.0)), ok()], (), id="429-retry-info"
    ),
    pytest.param([fail(lambda: KeyError("bug"))], (), id="bug-fails"),
    pytest.param([fail(overloaded)], [fail(overloaded), ok("second")], id="second-fallback"),
]


@pytest.mark.parametrize(("script", "fallbacks"), SCRIPTS)
async def test_sync_and_async_agree(script: list[Any], fallbacks: list[Any]) -> None:
    config = ResilienceConfig()  # full jitter: both drivers draw the same seeded waits
    sync_result, sync_clock, _ = run_sync(config, script, fallbacks, duration_s=0.2)
    async_result, async_clock, _ = await run_async(config, script, fallbacks, duration_s=0.2)
    assert sync_result == async_result
    assert sync_clock.sleeps == async_clock.sleeps


def test_retries_with_exact_waits_until_success() -> None:
    result, clock, _ = run_sync(QUIET, [fail(overloaded), fail(overloaded), ok()])
    assert result == CallResult("recipes", "ok", 3, 1.5, "closed", None, 200)
    assert clock.sleeps == [0.5, 1.0]


def test_gives_up_after_max_attempts_and_reports_the_last_failure() -> None:
    script = [fail(lambda: ServerError("500", status=500)), fail(overloaded)]
    result, clock, _ = run_sync(QUIET, script)
    assert (result.outcome, result.attempts, result.error, result.status) == (
        "failed",
        3,
        "OverloadedError",
        503,
    )
    assert clock.sleeps == [0.5, 1.0]


def test_retry_info_sets_the_wait() -> None:
    script = [fail(lambda: RateLimitedError("429", retry_delay_s=3.0)), ok()]
    result, clock, _ = run_sync(QUIET, script)
    assert clock.sleeps == [3.0]
    assert result.retry_wait_s == 3.0


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: ClientError("404", status=404), id="404"),
        pytest.param(lambda: BadKeyError("403", status=403), id="bad-key"),
    ],
)
def test_client_errors_are_not_retried(make: Callable[[], Exception]) -> None:
    result, clock, _ = run_sync(QUIET, [fail(make), ok()])
    assert (result.outcome, result.attempts, clock.sleeps) == ("failed", 1, [])


def test_deadline_stops_retries_and_shrinks_the_last_timeout() -> None:
    config = replace(
        QUIET, attempt_timeout_s=4.0, deadline_s=10.0, retry=replace(NO_JITTER, max_attempts=9)
    )
    result, clock, upstream = run_sync(config, [fail(overloaded)], duration_s=3.0)
    # t=3 fail, wait 0.5; t=6.5 fail, wait 1; t=10.5 fail: a 2 s wait would pass t=10.
    # The third attempt only had the 2.5 s left before the deadline.
    assert upstream.timeouts_s == [4.0, 4.0, 2.5]
    assert clock.sleeps == [0.5, 1.0]
    assert (result.outcome, result.attempts) == ("failed", 3)


def test_a_wait_that_would_pass_the_deadline_is_not_taken() -> None:
    config = replace(QUIET, deadline_s=5.0)
    script = [fail(lambda: RateLimitedError("429", retry_delay_s=30.0)), ok()]
    result, clock, _ = run_sync(config, script)
    assert (result.outcome, result.attempts, clock.sleeps) == ("failed", 1, [])


def test_open_breaker_fails_fast_without_calling_the_attempt() -> None:
    clock = Clock()
    breaker = BreakerConfig(window_calls=2, minimum_calls=2, open_s=10.0)
    policy = ResiliencePolicy(replace(QUIET, breaker=breaker), clock=clock)
    calls: list[float] = []

    def attempt(timeout_s: float) -> str:
        calls.append(timeout_s)
        raise overloaded()

    first = policy.call_sync(attempt, sleep=clock.sleep)  # 2 failed attempts open the breaker
    assert (first.attempts, first.error, clock.sleeps) == (2, "OverloadedError", [0.5])
    before = len(calls)
    result = policy.call_sync(attempt, fallbacks=[ok("static")], sleep=clock.sleep)
    assert len(calls) == before
    assert result == CallResult("static", "fallback", 0, 0.0, "open", "CircuitOpenError", None, 0)
    assert policy.fast_fail_times_s == [clock.now_s]
    assert [t.to_state for t in policy.transitions] == ["open"]


async def test_async_fast_fail_never_awaits_the_attempt() -> None:
    clock = Clock()
    policy = ResiliencePolicy(PRESETS["seed"], clock=clock)
    awaited: list[float] = []

    async def attempt(timeout_s: float) -> str:
        awaited.append(timeout_s)
        raise overloaded()

    results = [await policy.call_async(attempt, sleep=clock.asleep) for _ in range(5)]
    assert len(awaited) == 3  # the seed breaker opens after 3 failures
    assert [r.error for r in results[3:]] == ["CircuitOpenError"] * 2
    assert awaited == [30.0, 30.0, 30.0]


def test_fallbacks_are_tried_in_order_and_their_failures_swallowed() -> None:
    tried: list[str] = []

    def secondary() -> str:
        tried.append("secondary")
        raise ServerError("still down", status=500)

    def static() -> str:
        tried.append("static")
        return "static recipes"

    result, _, _ = run_sync(QUIET, [fail(overloaded)], [secondary, static])
    assert tried == ["secondary", "static"]
    assert (result.value, result.outcome, result.fallback_index) == (
        "static recipes",
        "fallback",
        1,
    )
    assert (result.error, result.status, result.attempts) == ("OverloadedError", 503, 3)


def test_all_fallbacks_failing_ends_failed() -> None:
    result, _, _ = run_sync(QUIET, [fail(overloaded)], [fail(overloaded)])
    assert (result.outcome, result.value, result.fallback_index) == ("failed", None, None)


def test_fallback_switched_off_ignores_fallbacks() -> None:
    called: list[int] = []
    result, _, _ = run_sync(PRESETS["none"], [fail(overloaded)], [lambda: called.append(1)])
    assert (result.outcome, result.attempts, called) == ("failed", 1, [])


def test_a_bug_in_the_attempt_ends_as_a_failure_not_an_exception() -> None:
    result, clock, _ = run_sync(QUIET, [fail(lambda: KeyError("oops"))], [ok("static")])
    assert (result.outcome, result.error, result.attempts, clock.sleeps) == (
        "fallback",
        "KeyError",
        1,
        [],
    )


def test_a_bare_timeout_error_is_an_upstream_timeout_and_retried() -> None:
    result, _, _ = run_sync(QUIET, [fail(TimeoutError), ok()])
    assert (result.outcome, result.attempts) == ("ok", 2)


async def test_async_attempt_is_bounded_by_asyncio_timeout() -> None:
    config = replace(QUIET, attempt_timeout_s=0.01, retry=RetryConfig(max_attempts=1))
    policy = ResiliencePolicy(config, clock=Clock())

    async def hangs(timeout_s: float) -> str:
        await asyncio.sleep(30)
        return "never"

    result = await asyncio.wait_for(policy.call_async(hangs), timeout=5)
    assert (result.outcome, result.error) == ("failed", UpstreamTimeoutError.__name__)


async def test_cancelling_a_probe_frees_its_slot() -> None:
    clock = Clock()
    breaker = BreakerConfig(window_calls=1, minimum_calls=1, open_s=1.0, half_open_probes=1)
    policy = ResiliencePolicy(replace(QUIET, breaker=breaker), clock=clock)
    await policy.call_async(Upstream(clock, [fail(overloaded)]).call_async, sleep=clock.asleep)
    clock.now_s = 2.0
    started = asyncio.Event()

    async def hangs(timeout_s: float) -> str:
        started.set()
        await asyncio.sleep(30)
        return "never"

    probe = asyncio.create_task(policy.call_async(hangs))
    await started.wait()
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    result = await policy.call_async(Upstream(clock, [ok()]).call_async)
    assert (result.outcome, result.attempts) == ("ok", 1)
    assert policy.breaker.state == "closed"


def outage(config: ResilienceConfig, requests: int = 200) -> tuple[ResiliencePolicy, list[Any]]:
    clock = Clock()
    policy = ResiliencePolicy(config, clock=clock)
    upstream = Upstream(clock, [fail(overloaded)], duration_s=0.05)
    results = [policy.call_sync(upstream, sleep=clock.sleep) for _ in range(requests)]
    return policy, results


@pytest.mark.parametrize(
    ("budget_ratio", "low", "high"),
    [
        pytest.param(0.1, 1.0, 1.2, id="budget-0.1"),
        pytest.param(None, 3.0, 3.0, id="no-budget"),
    ],
)
def test_retry_amplification_during_a_total_outage(
    budget_ratio: float | None, low: float, high: float
) -> None:
    retry = RetryConfig(max_attempts=3, budget_ratio=budget_ratio, budget_min_retries=3)
    policy, results = outage(ResilienceConfig(retry=retry, breaker=BreakerConfig.disabled()))
    amplification = len(policy.attempt_times_s) / len(results)
    assert low <= amplification <= high
    assert all(r.outcome == "failed" for r in results)


def test_the_breaker_cuts_upstream_load_during_an_outage() -> None:
    policy, results = outage(ResilienceConfig())
    assert len(policy.attempt_times_s) < len(results) / 2
    assert len(policy.fast_fail_times_s) > len(results) / 2
    assert sum(r.error == "CircuitOpenError" for r in results) == len(policy.fast_fail_times_s)


def test_seed_preset_never_retries() -> None:
    result, clock, _ = run_sync(PRESETS["seed"], [fail(overloaded), ok()], [ok("static")])
    assert (result.outcome, result.attempts, clock.sleeps) == ("fallback", 1, [])


def test_none_preset_never_opens_or_retries() -> None:
    policy, _ = outage(PRESETS["none"], requests=50)
    assert len(policy.attempt_times_s) == 50
    assert policy.fast_fail_times_s == []
    assert policy.transitions == []


def test_attempt_times_are_clock_values() -> None:
    clock = Clock()
    policy = ResiliencePolicy(QUIET, clock=clock)
    policy.call_sync(Upstream(clock, [fail(overloaded), ok()], 1.0), sleep=clock.sleep)
    assert policy.attempt_times_s == [0.0, 1.5]


def test_one_policy_serves_many_threads() -> None:
    clock = Clock()
    policy = ResiliencePolicy(ResilienceConfig(retry=NO_JITTER), clock=clock, rng_seed=1)
    lock = threading.Lock()
    results: list[CallResult[Any]] = []

    def attempt(timeout_s: float) -> str:
        raise overloaded()

    def no_sleep(wait_s: float) -> None:
        pass

    def user() -> None:
        for _ in range(100):
            result = policy.call_sync(attempt, fallbacks=[ok("static")], sleep=no_sleep)
            with lock:
                results.append(result)

    threads = [threading.Thread(target=user) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 800
    assert all(r.outcome == "fallback" for r in results)
    assert sum(r.attempts for r in results) == len(policy.attempt_times_s)
    fast_fails = sum(r.error == "CircuitOpenError" for r in results)
    assert fast_fails == len(policy.fast_fail_times_s)
