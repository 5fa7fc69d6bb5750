"""Retry decisions: capped exponential backoff, full jitter, RetryInfo floor, retry budget.

Pure functions of (exception, attempt number, config, rng); the drivers in
:mod:`harness.resilience.policy` do the sleeping::

    cfg = RetryConfig(max_attempts=3)
    wait_s = retry_wait_s(OverloadedError("503"), 1, cfg, random.Random(0))
    # None: give up; a float: sleep that long, then attempt again
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Literal

from harness.errors import ConfigError, UpstreamError

Jitter = Literal["full", "none"]


def _require(ok: bool, key: str, value: object, rule: str) -> None:
    if not ok:
        raise ConfigError(f"{key} must be {rule}, got {value!r}")


@dataclass(frozen=True)
class RetryConfig:
    """How often and how patiently to retry. ``max_attempts`` counts the first attempt.

    ``budget_ratio=None`` lifts the retry budget (unlimited retries).
    """

    max_attempts: int = 3
    base_s: float = 0.5
    cap_s: float = 8.0
    multiplier: float = 2.0
    jitter: Jitter = "full"
    honour_retry_info: bool = True
    budget_ratio: float | None = 0.1
    budget_min_retries: int = 3

    def __post_init__(self) -> None:
        _require(self.max_attempts >= 1, "max_attempts", self.max_attempts, ">= 1")
        _require(self.base_s >= 0, "base_s", self.base_s, ">= 0")
        _require(self.cap_s >= 0, "cap_s", self.cap_s, ">= 0")
        _require(self.multiplier >= 1, "multiplier", self.multiplier, ">= 1")
        _require(self.jitter in ("full", "none"), "jitter", self.jitter, "'full' or 'none'")
        ratio = self.budget_ratio
        _require(ratio is None or ratio >= 0, "budget_ratio", ratio, ">= 0 or none")
        _require(
            self.budget_min_retries >= 0, "budget_min_retries", self.budget_min_retries, ">= 0"
        )


def is_retryable(exc: BaseException) -> bool:
    """429, 5xx, timeouts and connection failures; never 4xx, malformed answers or bugs."""
    return isinstance(exc, UpstreamError) and exc.retryable


def backoff_s(attempt: int, cfg: RetryConfig, rng: random.Random) -> float:
    """The wait after failed attempt number ``attempt`` (1-based), before any RetryInfo floor.

    The ceiling is ``min(cap_s, base_s * multiplier ** (attempt - 1))``; full jitter
    draws uniformly below it, ``jitter="none"`` waits the ceiling itself.

    >>> [backoff_s(n, RetryConfig(jitter="none"), random.Random(0)) for n in (1, 2, 3)]
    [0.5, 1.0, 2.0]
    """
    try:
        ceiling_s = min(cfg.cap_s, cfg.base_s * cfg.multiplier ** (attempt - 1))
    except OverflowError:  # a huge attempt number: the cap has long been reached
        ceiling_s = cfg.cap_s
    if cfg.jitter == "none":
        return ceiling_s
    return rng.uniform(0.0, ceiling_s)


def retry_wait_s(
    exc: BaseException, attempt: int, cfg: RetryConfig, rng: random.Random
) -> float | None:
    """How long to wait before retrying after failed attempt ``attempt``; None = give up.

    Gives up on non-retryable failures (ClientError, BadKeyError, malformed
    answers, CircuitOpenError, bugs) and once ``max_attempts`` are used. Never
    waits less than the server's ``retry_delay_s`` when ``honour_retry_info``.
    """
    if not is_retryable(exc) or attempt >= cfg.max_attempts:
        return None
    wait_s = backoff_s(attempt, cfg, rng)
    server_delay_s = getattr(exc, "retry_delay_s", None)
    if cfg.honour_retry_info and server_delay_s is not None:
        wait_s = max(wait_s, float(server_delay_s))
    return wait_s


class RetryBudget:
    """Retries allowed while ``retries_spent < min_retries + ratio * first_attempts``.

    Shared by all calls of a run (thread-safe), so a total outage adds at most
    about ``ratio`` extra load instead of ``max_attempts - 1`` times it::

        budget = RetryBudget(0.1, 3)
        budget.on_first_attempt()
        if budget.try_spend():
            ...  # retry; budget.refund() if it is then never sent
    """

    def __init__(self, ratio: float | None, min_retries: int) -> None:
        self.ratio = ratio
        self.min_retries = min_retries
        self._lock = threading.Lock()
        self._first_attempts = 0
        self._retries_spent = 0

    @classmethod
    def from_config(cls, cfg: RetryConfig) -> RetryBudget:
        return cls(cfg.budget_ratio, cfg.budget_min_retries)

    @property
    def first_attempts(self) -> int:
        return self._first_attempts

    @property
    def retries_spent(self) -> int:
        return self._retries_spent

    def on_first_attempt(self) -> None:
        """Count one request's first upstream attempt (earns ``ratio`` of a retry)."""
        with self._lock:
            self._first_attempts += 1

    def try_spend(self) -> bool:
        """Take one retry from the budget; False when it is empty (do not retry)."""
        with self._lock:
            allowed = self.ratio is None or (
                self._retries_spent < self.min_retries + self.ratio * self._first_attempts
            )
            if allowed:
                self._retries_spent += 1
            return allowed

    def refund(self) -> None:
        """Give back a retry that was spent but never sent (the breaker or deadline refused it)."""
        with self._lock:
            self._retries_spent = max(0, self._retries_spent - 1)
