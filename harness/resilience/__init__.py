"""Resilience shared by every generator: circuit breaker, retries, timeouts, fallbacks.

    from harness.resilience import PRESETS, ResiliencePolicy
    policy = ResiliencePolicy(PRESETS["default"], clock=run_clock)
    result = policy.call_sync(attempt, fallbacks=[static_fallback])

See docs/resilience.md for the semantics.
"""

from harness.resilience.breaker import (
    SEED_BREAKER,
    BreakerConfig,
    BreakerCounts,
    CircuitBreaker,
    Permit,
    State,
    Transition,
    counts_as_failure,
)
from harness.resilience.config import PRESETS, ResilienceConfig, preset
from harness.resilience.policy import ASYNC_TIMEOUT_GRACE_S, CallResult, ResiliencePolicy
from harness.resilience.retry import (
    RetryBudget,
    RetryConfig,
    backoff_s,
    is_retryable,
    retry_wait_s,
)

__all__ = [
    "ASYNC_TIMEOUT_GRACE_S",
    "PRESETS",
    "SEED_BREAKER",
    "BreakerConfig",
    "BreakerCounts",
    "CallResult",
    "CircuitBreaker",
    "Permit",
    "ResilienceConfig",
    "ResiliencePolicy",
    "RetryBudget",
    "RetryConfig",
    "State",
    "Transition",
    "backoff_s",
    "counts_as_failure",
    "is_retryable",
    "preset",
    "retry_wait_s",
]
