"""Circuit breaker: a pure, thread-safe state machine driven by an injected clock.

It never sleeps and does no I/O; the caller asks before each upstream call and
reports how the call went::

    breaker = CircuitBreaker(BreakerConfig(), clock=run_clock)
    permit = breaker.acquire()
    if permit is None:
        ...  # fail fast with CircuitOpenError: do not touch the network
    else:
        breaker.record(permit, success=True, duration_s=0.4)

States: ``closed`` (count-based window of the last ``window_calls`` outcomes;
opens when the failure rate or slow-call rate reaches its threshold after at
least ``minimum_calls``), ``open`` (every acquire fails fast; after ``open_s``
the next acquire or state read moves to ``half_open``) and ``half_open``
(exactly ``half_open_probes`` permits; all succeed → closed, any fails → open).

A permit belongs to the state period that issued it: outcomes of permits from an
earlier period (calls still in flight when the state changed) are counted in
:attr:`CircuitBreaker.counts` but move nothing.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from harness.errors import ConfigError, UpstreamError

State = Literal["closed", "open", "half_open"]


def _require(ok: bool, key: str, value: object, rule: str) -> None:
    if not ok:
        raise ConfigError(f"{key} must be {rule}, got {value!r}")


@dataclass(frozen=True)
class BreakerConfig:
    """Breaker settings (resilience4j names, seconds). ``BreakerConfig.disabled()`` never opens."""

    window_calls: int = 20
    failure_rate_threshold: float = 0.5
    minimum_calls: int = 10
    slow_call_s: float | None = None
    slow_call_rate_threshold: float = 1.0
    open_s: float = 5.0
    half_open_probes: int = 3
    enabled: bool = True

    def __post_init__(self) -> None:
        _require(self.window_calls >= 1, "window_calls", self.window_calls, ">= 1")
        _require(
            1 <= self.minimum_calls <= self.window_calls,
            "minimum_calls",
            self.minimum_calls,
            f"between 1 and window_calls ({self.window_calls})",
        )
        for key in ("failure_rate_threshold", "slow_call_rate_threshold"):
            value = getattr(self, key)
            _require(0 < value <= 1, key, value, "in (0, 1]")
        slow = self.slow_call_s
        _require(slow is None or slow > 0, "slow_call_s", slow, "> 0 or none")
        # infinity would keep an open breaker open for ever; NaN compares false everywhere
        _require(0 <= self.open_s <= 86_400, "open_s", self.open_s, "from 0 to 86400 s")
        _require(self.half_open_probes >= 1, "half_open_probes", self.half_open_probes, ">= 1")

    @classmethod
    def disabled(cls) -> BreakerConfig:
        """A breaker that permits every call: ``BreakerConfig.disabled()``."""
        return cls(enabled=False)


# The seed's breaker: open after 3 failures in a row, stay open 30 s, then one trial call.
SEED_BREAKER = BreakerConfig(
    window_calls=3, failure_rate_threshold=1.0, minimum_calls=3, open_s=30.0, half_open_probes=1
)


@dataclass(frozen=True)
class Permit:
    """Leave to make one upstream call; hand it back to :meth:`CircuitBreaker.record`."""

    epoch: int
    probe: bool


@dataclass(frozen=True)
class Transition:
    """One state change at clock time ``time_s``, with a reason a human can read."""

    time_s: float
    from_state: State
    to_state: State
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """The results-file shape: ``{"time_s", "from", "to", "reason"}``."""
        return {
            "time_s": self.time_s,
            "from": self.from_state,
            "to": self.to_state,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class BreakerCounts:
    """Totals since creation: ``permitted == recorded + cancelled + in flight``."""

    permitted: int
    denied: int
    recorded: int
    stale: int
    cancelled: int


def counts_as_failure(exc: BaseException) -> bool:
    """Whether an attempt's exception says the upstream is unhealthy.

    Retryable upstream errors (429, 5xx, timeouts, connection failures) count; a
    4xx ``ClientError``, a malformed answer or a bug in our code does not: the
    upstream answered, so the call is recorded as a success for the breaker.

    >>> from harness.errors import ClientError, OverloadedError
    >>> counts_as_failure(OverloadedError("503")), counts_as_failure(ClientError("400"))
    (True, False)
    """
    if isinstance(exc, UpstreamError):
        return exc.retryable
    return isinstance(exc, TimeoutError | ConnectionError)


class CircuitBreaker:
    """The breaker shared by every call of a run (see the module docstring)."""

    def __init__(self, config: BreakerConfig, clock: Callable[[], float]) -> None:
        self.config = config
        self._clock = clock
        # Held only around state reads and changes, never across I/O or an await.
        self._lock = threading.Lock()
        self._state: State = "closed"
        self._epoch = 0
        self._window: deque[tuple[bool, bool]] = deque(maxlen=config.window_calls)
        # Failed and slow calls in the window, kept as it moves: a record is O(1).
        self._window_failed = 0
        self._window_slow = 0
        # Closed-state permits of one epoch are all alike and immutable: one object serves.
        self._closed_permit = Permit(0, probe=False)
        self._opened_at_s = 0.0
        self._probes_issued = 0
        self._probes_ok = 0
        self._transitions: list[Transition] = []
        self._counts = {"permitted": 0, "denied": 0, "recorded": 0, "stale": 0, "cancelled": 0}

    @property
    def state(self) -> State:
        """The current state; an expired ``open`` becomes ``half_open`` here."""
        if self._state == "closed":  # one atomic read; only ``open`` changes with time
            return "closed"
        with self._lock:
            self._maybe_half_open()
            return self._state

    @property
    def transitions(self) -> list[Transition]:
        """Every state change so far, oldest first (a copy)."""
        with self._lock:
            return list(self._transitions)

    @property
    def counts(self) -> BreakerCounts:
        with self._lock:
            return BreakerCounts(**self._counts)

    def acquire(self) -> Permit | None:
        """A permit for one call, or None: fail fast without calling the upstream."""
        with self._lock:
            if self._state != "closed":
                self._maybe_half_open()
            permit = self._permit()
            self._counts["denied" if permit is None else "permitted"] += 1
            return permit

    def record(self, permit: Permit, *, success: bool, duration_s: float) -> None:
        """Report how the call made under ``permit`` went; may change the state.

        ``success`` is the caller's verdict (see :func:`counts_as_failure`); a call
        lasting at least ``slow_call_s`` is also counted as slow.
        """
        slow = self.config.slow_call_s is not None and duration_s >= self.config.slow_call_s
        with self._lock:
            self._counts["recorded"] += 1
            if not self.config.enabled or permit.epoch != self._epoch:
                self._counts["stale"] += 1
            elif permit.probe:
                self._record_probe(failed=not success, slow=slow)
            else:
                self._record_closed(failed=not success, slow=slow)

    def cancel(self, permit: Permit) -> None:
        """Give a permit back unused (the call was cancelled); frees its probe slot."""
        with self._lock:
            self._counts["cancelled"] += 1
            if self.config.enabled and permit.probe and permit.epoch == self._epoch:
                self._probes_issued -= 1

    def _permit(self) -> Permit | None:
        if not self.config.enabled or self._state == "closed":
            return self._closed_permit
        if self._state == "half_open" and self._probes_issued < self.config.half_open_probes:
            self._probes_issued += 1
            return Permit(self._epoch, probe=True)
        return None

    def _maybe_half_open(self) -> None:
        if self._state != "open":
            return
        if self._clock() - self._opened_at_s >= self.config.open_s:
            self._move("half_open", f"open {self.config.open_s} s elapsed")

    def _record_closed(self, *, failed: bool, slow: bool) -> None:
        window = self._window
        if len(window) == window.maxlen:
            old_failed, old_slow = window[0]  # about to fall out of the window
            self._window_failed -= old_failed
            self._window_slow -= old_slow
        window.append((failed, slow))
        self._window_failed += failed
        self._window_slow += slow
        reason = self._trip_reason()
        if reason is not None:
            self._move("open", reason)

    def _trip_reason(self) -> str | None:
        cfg = self.config
        calls = len(self._window)
        if calls < cfg.minimum_calls:
            return None
        failure_rate = self._window_failed / calls
        if failure_rate >= cfg.failure_rate_threshold:
            return (
                f"failure rate {failure_rate:.0%} >= {cfg.failure_rate_threshold:.0%}"
                f" over {calls} calls"
            )
        if cfg.slow_call_s is None:
            return None
        slow_rate = self._window_slow / calls
        if slow_rate >= cfg.slow_call_rate_threshold:
            return (
                f"slow-call rate {slow_rate:.0%} >= {cfg.slow_call_rate_threshold:.0%}"
                f" over {calls} calls (>= {cfg.slow_call_s} s)"
            )
        return None

    def _record_probe(self, *, failed: bool, slow: bool) -> None:
        if failed or slow:
            self._move("open", "probe failed" if failed else "probe slow")
            return
        self._probes_ok += 1
        probes = self.config.half_open_probes
        if self._probes_ok >= probes:
            self._move("closed", f"{probes}/{probes} probes succeeded")

    def _move(self, to_state: State, reason: str) -> None:
        now_s = self._clock()
        self._transitions.append(Transition(now_s, self._state, to_state, reason))
        self._state = to_state
        self._epoch += 1
        self._window.clear()
        self._window_failed = self._window_slow = 0
        self._closed_permit = Permit(self._epoch, probe=False)
        self._probes_issued = self._probes_ok = 0
        self._opened_at_s = now_s
