"""Every breaker transition, with an injected clock: rate, slow calls, open time, probes."""

from __future__ import annotations

import itertools
import random
import threading
import time
from dataclasses import replace
from typing import Any

import pytest

from harness.errors import (
    BadKeyError,
    CircuitOpenError,
    ClientError,
    ConfigError,
    ConnectionFailedError,
    MalformedAnswerError,
    OverloadedError,
    RateLimitedError,
    ServerError,
    UpstreamTimeoutError,
)
from harness.resilience.breaker import (
    SEED_BREAKER,
    BreakerConfig,
    CircuitBreaker,
    Transition,
    counts_as_failure,
)


class Clock:
    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


def call(breaker: CircuitBreaker, success: bool, duration_s: float = 0.1) -> bool:
    """One call through the breaker; False when it failed fast."""
    permit = breaker.acquire()
    if permit is None:
        return False
    breaker.record(permit, success=success, duration_s=duration_s)
    return True


def tripped(clock: Clock, **overrides: Any) -> CircuitBreaker:
    """A breaker opened at clock time 0 by minimum_calls failures."""
    cfg = BreakerConfig(window_calls=4, minimum_calls=2, open_s=5.0, half_open_probes=3)
    cfg = replace(cfg, **overrides)
    breaker = CircuitBreaker(cfg, clock)
    while breaker.state == "closed":
        call(breaker, success=False)
    return breaker


def test_opens_on_failure_rate_but_not_before_minimum_calls() -> None:
    clock = Clock()
    breaker = CircuitBreaker(BreakerConfig(window_calls=10, minimum_calls=5), clock)
    for second in range(4):
        clock.now_s = float(second)
        call(breaker, success=False)
    assert breaker.state == "closed"
    clock.now_s = 4.0
    call(breaker, success=False)
    assert breaker.state == "open"
    assert breaker.transitions == [
        Transition(4.0, "closed", "open", "failure rate 100% >= 50% over 5 calls")
    ]


def test_a_failure_rate_below_the_threshold_keeps_it_closed() -> None:
    breaker = CircuitBreaker(BreakerConfig(window_calls=10, minimum_calls=10), Clock())
    for i in range(50):
        call(breaker, success=i % 3 != 0)  # 1 in 3 fails: 33% < 50%
    assert breaker.state == "closed"
    assert breaker.transitions == []


def test_the_window_forgets_calls_older_than_window_calls() -> None:
    cfg = BreakerConfig(window_calls=4, minimum_calls=4, failure_rate_threshold=0.5)
    breaker = CircuitBreaker(cfg, Clock())
    for success in [False, True, True, True, True, True, False]:
        call(breaker, success)
    assert breaker.state == "closed"  # 2 failures in 7 calls, never 2 in the last 4
    call(breaker, success=False)  # last 4: T, T, F, F
    assert breaker.state == "open"
    assert breaker.transitions[0].reason == "failure rate 50% >= 50% over 4 calls"


def test_slow_calls_open_it_even_when_they_succeed() -> None:
    cfg = BreakerConfig(
        window_calls=4, minimum_calls=4, slow_call_s=2.0, slow_call_rate_threshold=0.5
    )
    breaker = CircuitBreaker(cfg, Clock())
    for duration_s in [3.0, 0.1, 0.1]:
        call(breaker, True, duration_s)
    assert breaker.state == "closed"
    call(breaker, True, 2.5)
    assert breaker.state == "open"
    assert breaker.transitions[0].reason == "slow-call rate 50% >= 50% over 4 calls (>= 2.0 s)"


def test_slow_calls_count_for_nothing_without_slow_call_s() -> None:
    breaker = CircuitBreaker(BreakerConfig(window_calls=4, minimum_calls=4), Clock())
    for _ in range(20):
        call(breaker, True, 100.0)
    assert breaker.state == "closed"


def test_open_fails_fast_until_open_s_has_elapsed() -> None:
    clock = Clock()
    breaker = tripped(clock)
    clock.now_s = 4.999
    assert breaker.acquire() is None
    assert breaker.state == "open"
    clock.now_s = 5.0
    assert breaker.state == "half_open"
    assert breaker.transitions[-1] == Transition(5.0, "open", "half_open", "open 5.0 s elapsed")


def test_half_open_is_entered_lazily_by_the_next_acquire() -> None:
    clock = Clock()
    breaker = tripped(clock)
    clock.now_s = 12.5
    assert breaker.acquire() is not None
    assert breaker.transitions[-1].time_s == 12.5


@pytest.mark.parametrize("probes", [pytest.param(k, id=f"K={k}") for k in (1, 3, 5)])
def test_half_open_hands_out_exactly_k_probes(probes: int) -> None:
    clock = Clock()
    breaker = tripped(clock, half_open_probes=probes)
    clock.now_s = 5.0
    permits = [breaker.acquire() for _ in range(probes)]
    assert all(p is not None for p in permits)
    assert breaker.acquire() is None
    assert breaker.state == "half_open"


def test_half_open_closes_after_k_successful_probes_with_a_fresh_window() -> None:
    clock = Clock()
    breaker = tripped(clock)
    clock.now_s = 5.0
    permits = [breaker.acquire() for _ in range(3)]
    clock.now_s = 6.0
    for permit in permits:
        assert permit is not None
        assert breaker.state == "half_open"
        breaker.record(permit, success=True, duration_s=0.1)
    assert breaker.state == "closed"
    assert breaker.transitions[-1] == Transition(6.0, "half_open", "closed", "3/3 probes succeeded")
    call(breaker, success=False)  # one failure: below minimum_calls of the fresh window
    assert breaker.state == "closed"


def test_a_failed_probe_opens_it_again_for_open_s() -> None:
    clock = Clock()
    breaker = tripped(clock)
    clock.now_s = 5.0
    first, second = breaker.acquire(), breaker.acquire()
    assert first is not None and second is not None
    clock.now_s = 5.5
    breaker.record(first, success=False, duration_s=0.5)
    assert breaker.state == "open"
    assert breaker.transitions[-1] == Transition(5.5, "half_open", "open", "probe failed")
    breaker.record(second, success=True, duration_s=0.5)  # late probe of the old period
    assert breaker.state == "open"
    clock.now_s = 10.4
    assert breaker.acquire() is None
    clock.now_s = 10.5
    assert breaker.state == "half_open"


def test_a_slow_probe_counts_as_failed() -> None:
    clock = Clock()
    breaker = tripped(clock, slow_call_s=1.0)
    clock.now_s = 5.0
    permit = breaker.acquire()
    assert permit is not None
    breaker.record(permit, success=True, duration_s=1.5)
    assert breaker.transitions[-1].reason == "probe slow"


def test_outcomes_from_an_earlier_state_move_nothing() -> None:
    clock = Clock()
    breaker = CircuitBreaker(BreakerConfig(window_calls=2, minimum_calls=2), clock)
    in_flight = [breaker.acquire() for _ in range(4)]
    for permit in in_flight[:2]:
        assert permit is not None
        breaker.record(permit, success=False, duration_s=0.1)
    assert breaker.state == "open"
    clock.now_s = 5.0
    assert breaker.state == "half_open"
    for permit in in_flight[2:]:  # closed-period calls finishing late
        assert permit is not None
        breaker.record(permit, success=False, duration_s=0.1)
    assert breaker.state == "half_open"
    assert breaker.counts.stale == 2


def test_a_cancelled_probe_frees_its_slot() -> None:
    clock = Clock()
    breaker = tripped(clock, half_open_probes=1)
    clock.now_s = 5.0
    permit = breaker.acquire()
    assert permit is not None
    assert breaker.acquire() is None
    breaker.cancel(permit)
    assert breaker.acquire() is not None


def test_full_history_of_transitions_with_times_and_reasons() -> None:
    clock = Clock()
    cfg = BreakerConfig(window_calls=3, minimum_calls=3, open_s=10.0, half_open_probes=2)
    breaker = CircuitBreaker(cfg, clock)
    script: list[tuple[float, bool]] = [
        (1.0, False), (2.0, False), (3.0, False),  # opens at 3
        (13.0, False),  # half-open at 13, probe fails → open
        (23.0, True), (24.0, True),  # half-open at 23, 2/2 probes → closed at 24
    ]  # fmt: skip
    for now_s, success in script:
        clock.now_s = now_s
        call(breaker, success)
    assert [(t.time_s, t.from_state, t.to_state, t.reason) for t in breaker.transitions] == [
        (3.0, "closed", "open", "failure rate 100% >= 50% over 3 calls"),
        (13.0, "open", "half_open", "open 10.0 s elapsed"),
        (13.0, "half_open", "open", "probe failed"),
        (23.0, "open", "half_open", "open 10.0 s elapsed"),
        (24.0, "half_open", "closed", "2/2 probes succeeded"),
    ]
    assert breaker.transitions[0].to_dict() == {
        "time_s": 3.0,
        "from": "closed",
        "to": "open",
        "reason": "failure rate 100% >= 50% over 3 calls",
    }


def test_seed_breaker_opens_after_three_failures_for_thirty_seconds() -> None:
    clock = Clock()
    breaker = CircuitBreaker(SEED_BREAKER, clock)
    call(breaker, False)
    call(breaker, True)
    call(breaker, False)
    call(breaker, False)
    assert breaker.state == "closed"  # a success in the last 3 calls
    call(breaker, False)
    assert breaker.state == "open"
    clock.now_s = 29.9
    assert breaker.acquire() is None
    clock.now_s = 30.0
    assert breaker.acquire() is not None
    assert breaker.acquire() is None  # a single probe


def test_disabled_breaker_permits_everything() -> None:
    breaker = CircuitBreaker(BreakerConfig.disabled(), Clock())
    assert all(call(breaker, success=False) for _ in range(100))
    assert breaker.state == "closed"
    assert breaker.transitions == []


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        pytest.param(OverloadedError("503", status=503), True, id="503"),
        pytest.param(ServerError("500", status=500), True, id="500"),
        pytest.param(RateLimitedError("429"), True, id="429"),
        pytest.param(UpstreamTimeoutError("slow"), True, id="timeout"),
        pytest.param(ConnectionFailedError("reset"), True, id="connection"),
        pytest.param(TimeoutError(), True, id="bare-timeout"),
        pytest.param(ClientError("400", status=400), False, id="400"),
        pytest.param(BadKeyError("403", status=403), False, id="bad-key"),
        pytest.param(MalformedAnswerError("bad json"), False, id="malformed"),
        pytest.param(CircuitOpenError("open"), False, id="circuit-open"),
        pytest.param(KeyError("bug"), False, id="bug"),
    ],
)
def test_only_upstream_trouble_counts_as_failure(exc: BaseException, expected: bool) -> None:
    assert counts_as_failure(exc) is expected


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        pytest.param({"window_calls": 0}, ["window_calls", "0"], id="window"),
        pytest.param({"minimum_calls": 30}, ["minimum_calls", "30"], id="minimum-above-window"),
        pytest.param({"failure_rate_threshold": 1.5}, ["failure_rate_threshold"], id="rate"),
        pytest.param({"slow_call_s": 0.0}, ["slow_call_s", "0.0"], id="slow"),
        pytest.param({"half_open_probes": 0}, ["half_open_probes", "0"], id="probes"),
    ],
)
def test_bad_breaker_config_names_key_and_value(kwargs: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        BreakerConfig(**kwargs)
    assert all(word in str(info.value) for word in words)


def test_eight_threads_keep_the_counters_consistent() -> None:
    cfg = BreakerConfig(window_calls=10, minimum_calls=5, open_s=0.0005, half_open_probes=2)
    breaker = CircuitBreaker(cfg, time.monotonic)
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(500):
                permit = breaker.acquire()
                if permit is not None:
                    breaker.record(permit, success=rng.random() < 0.6, duration_s=0.0)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    counts = breaker.counts
    assert errors == []
    assert counts.permitted + counts.denied == 8 * 500
    assert counts.recorded == counts.permitted
    transitions = breaker.transitions
    assert len(transitions) > 0
    for before, after in itertools.pairwise(transitions):
        assert before.to_state == after.from_state
        assert before.time_s <= after.time_s
