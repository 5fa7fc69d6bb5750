"""Documented upper bounds on what a run may ask for, checked before anything starts.

Each bound keeps one machine's run finite and its resources within reach; a value past
one is a :class:`~harness.errors.ConfigError` naming the flag, the value and the bound
(docs/scale.md, "Limits")::

    check_total_requests(users=20, requests_per_user=10**8)   # ConfigError: --requests-per-user …
"""

from __future__ import annotations

import math

from harness.errors import ConfigError

MAX_USERS = 100_000  # closed-loop users of one design (each a coroutine, thread or session)
MAX_REQUESTS = 10_000_000  # requests of one design on one load (records are kept per request)
MAX_THREADS = 2_048  # the threaded design runs one OS thread per slot
MAX_IN_FLIGHT = 100_000  # any design's concurrency cap (each request in flight holds a socket)
MAX_OUTPUT_TOKENS = 65_536  # Gemini 2.5 models' largest maxOutputTokens
MAX_RATE_RPS = 100_000.0  # open-loop arrivals per second
MAX_DURATION_S = 86_400.0  # one day of open-loop arrivals
MAX_REPETITIONS = 1_000


def check_range(flag: str, value: float | None, low: float, high: float) -> None:
    """``low <= value <= high`` and finite (None passes: the flag was not given)."""
    if value is None:
        return
    if not (math.isfinite(value) and low <= value <= high):
        raise ConfigError(f"{flag}: expected a number from {low:g} to {high:g}, got {value!r}")


def check_total_requests(users: int, requests_per_user: int) -> None:
    """users × requests per user within :data:`MAX_REQUESTS`."""
    total = users * requests_per_user
    if total > MAX_REQUESTS:
        raise ConfigError(
            f"--requests-per-user: {users} users × {requests_per_user} = {total:,} requests; "
            f"at most {MAX_REQUESTS:,} per design (split the run, or use open loop with "
            "--duration and --no-raw-records)"
        )


def check_threads(cap: int) -> None:
    """The threaded design's pool within :data:`MAX_THREADS`."""
    if cap > MAX_THREADS:
        raise ConfigError(
            f"threaded: a cap of {cap:,} asks for {cap:,} threads; at most {MAX_THREADS:,} "
            "(set --workers or --max-in-flight lower, or compare async at that scale)"
        )
