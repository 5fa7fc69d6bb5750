"""Retry decisions: exact backoff, jitter bounds, RetryInfo floor, what is never retried, budget."""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest

from harness.errors import (
    BadKeyError,
    BlockedAnswerError,
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
from harness.resilience.retry import RetryBudget, RetryConfig, backoff_s, retry_wait_s


@pytest.mark.parametrize(
    ("cfg", "expected"),
    [
        pytest.param(
            RetryConfig(jitter="none"), [0.5, 1.0, 2.0, 4.0, 8.0, 8.0], id="default-cap-8"
        ),
        pytest.param(
            RetryConfig(jitter="none", base_s=0.5, cap_s=3.0),
            [0.5, 1.0, 2.0, 3.0, 3.0, 3.0],
            id="cap-3",
        ),
        pytest.param(
            RetryConfig(jitter="none", base_s=1.0, multiplier=3.0, cap_s=100.0),
            [1.0, 3.0, 9.0, 27.0, 81.0, 100.0],
            id="multiplier-3",
        ),
    ],
)
def test_backoff_without_jitter_is_the_capped_exponential(
    cfg: RetryConfig, expected: list[float]
) -> None:
    rng = random.Random(0)
    assert [backoff_s(n, cfg, rng) for n in range(1, 7)] == expected


def test_retry_waits_without_jitter_are_exact_until_attempts_run_out() -> None:
    cfg = RetryConfig(max_attempts=4, jitter="none")
    rng = random.Random(0)
    waits = [retry_wait_s(OverloadedError("503"), n, cfg, rng) for n in range(1, 5)]
    assert waits == [0.5, 1.0, 2.0, None]


def test_backoff_survives_huge_attempt_numbers() -> None:
    cfg = RetryConfig(jitter="none", multiplier=10.0)
    assert backoff_s(10_000, cfg, random.Random(0)) == cfg.cap_s


def test_full_jitter_stays_below_the_ceiling_and_spreads() -> None:
    cfg = RetryConfig(base_s=0.5, cap_s=4.0)
    rng = random.Random(42)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (9, 4.0)]:
        draws = [backoff_s(attempt, cfg, rng) for _ in range(500)]
        assert all(0.0 <= d <= ceiling for d in draws)
        assert min(draws) < 0.1 * ceiling and max(draws) > 0.9 * ceiling
        assert sum(draws) / len(draws) == pytest.approx(ceiling / 2, rel=0.15)


def test_full_jitter_is_reproducible_from_the_seed() -> None:
    cfg = RetryConfig()
    first = [backoff_s(2, cfg, random.Random(7)) for _ in range(3)]
    again = [backoff_s(2, cfg, random.Random(7)) for _ in range(3)]
    assert first == again


@pytest.mark.parametrize("seed", [pytest.param(s, id=f"seed-{s}") for s in range(5)])
def test_retry_info_is_a_floor_on_the_wait(seed: int) -> None:
    exc = RateLimitedError("429", retry_delay_s=3.0)
    rng = random.Random(seed)
    waits = [retry_wait_s(exc, n, RetryConfig(max_attempts=5), rng) for n in range(1, 5)]
    assert all(w is not None and w >= 3.0 for w in waits)


def test_retry_info_above_the_jittered_backoff_wins_exactly() -> None:
    exc = RateLimitedError("429", retry_delay_s=3.0)
    assert retry_wait_s(exc, 1, RetryConfig(), random.Random(0)) == 3.0


def test_retry_info_is_ignored_when_not_honoured() -> None:
    exc = RateLimitedError("429", retry_delay_s=3.0)
    cfg = RetryConfig(honour_retry_info=False, jitter="none")
    assert retry_wait_s(exc, 1, cfg, random.Random(0)) == 0.5


@pytest.mark.parametrize(
    "exc",
    [
        pytest.param(ClientError("400", status=400), id="400"),
        pytest.param(ClientError("404", status=404), id="404"),
        pytest.param(BadKeyError("403", status=403), id="bad-key-403"),
        pytest.param(BadKeyError("400 API_KEY_INVALID", status=400), id="bad-key-400"),
        pytest.param(MalformedAnswerError("bad json", status=200), id="malformed"),
        pytest.param(BlockedAnswerError("SAFETY", status=200), id="blocked"),
        pytest.param(CircuitOpenError("open"), id="circuit-open"),
        pytest.param(ValueError("a bug"), id="bug"),
    ],
)
def test_never_retries_what_a_retry_cannot_fix(exc: Exception) -> None:
    assert retry_wait_s(exc, 1, RetryConfig(max_attempts=10), random.Random(0)) is None


@pytest.mark.parametrize(
    "exc",
    [
        pytest.param(RateLimitedError("429"), id="429"),
        pytest.param(OverloadedError("503", status=503), id="503"),
        pytest.param(ServerError("500", status=500), id="500"),
        pytest.param(ServerError("504", status=504), id="504"),
        pytest.param(UpstreamTimeoutError("slow"), id="timeout"),
        pytest.param(ConnectionFailedError("reset"), id="connection"),
    ],
)
def test_retries_transient_failures(exc: Exception) -> None:
    wait = retry_wait_s(exc, 1, RetryConfig(jitter="none"), random.Random(0))
    assert wait == 0.5


def test_single_attempt_config_never_retries() -> None:
    cfg = RetryConfig(max_attempts=1)
    assert retry_wait_s(OverloadedError("503"), 1, cfg, random.Random(0)) is None


def test_budget_caps_retries_during_a_total_outage() -> None:
    budget = RetryBudget(0.1, 3)
    for _ in range(100):
        budget.on_first_attempt()
        for _retry in range(2):  # max_attempts 3: each request asks for two retries
            budget.try_spend()
    assert budget.retries_spent == 13
    assert not budget.try_spend()


def test_budget_refills_with_new_first_attempts() -> None:
    budget = RetryBudget(0.5, 0)
    assert not budget.try_spend()
    budget.on_first_attempt()
    budget.on_first_attempt()
    assert budget.try_spend()
    assert not budget.try_spend()


def test_budget_without_ratio_is_unlimited() -> None:
    budget = RetryBudget(None, 0)
    assert all(budget.try_spend() for _ in range(1000))


def test_budget_is_exact_under_threads() -> None:
    budget = RetryBudget(0.1, 3)

    def work() -> None:
        for _ in range(250):
            budget.on_first_attempt()
            budget.try_spend()
            budget.try_spend()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert budget.first_attempts == 2000
    assert budget.retries_spent <= 3 + 0.1 * 2000


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        pytest.param({"max_attempts": 0}, ["max_attempts", "0"], id="attempts"),
        pytest.param({"multiplier": 0.5}, ["multiplier", "0.5"], id="multiplier"),
        pytest.param({"jitter": "half"}, ["jitter", "'half'"], id="jitter"),
        pytest.param({"budget_ratio": -1.0}, ["budget_ratio", "-1.0"], id="ratio"),
    ],
)
def test_bad_retry_config_names_key_and_value(kwargs: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        RetryConfig(**kwargs)
    assert all(word in str(info.value) for word in words)
