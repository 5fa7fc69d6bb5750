"""Timeout, retry, circuit breaker and fallback, decided once and driven sync or async.

One :class:`ResiliencePolicy` per run; every generator calls it the same way::

    policy = ResiliencePolicy(PRESETS["default"], clock=run_clock)
    result = policy.call_sync(lambda timeout_s: send(req, timeout_s),
                              fallbacks=[lambda: fallback_recipes(req)])
    result = await policy.call_async(send_async, fallbacks=[static_async])
    # result.outcome in {"ok", "fallback", "failed"}; result.attempts, result.retry_wait_s, ...

The decisions live in one generator (``_Call.steps``) that yields what to do
next (attempt with a timeout, sleep, try fallback *i*); the two drivers only
execute those steps (``call_async`` awaits a first attempt itself: see there).
The attempt callables raise :class:`UpstreamError` subclasses; any other
exception is a bug in the caller and ends the primary path as a failure named
by its class (never retried), so every request still ends as exactly one result.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Awaitable, Callable, Generator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Generic, Literal, TypeVar

from harness.errors import CircuitOpenError, UpstreamError, UpstreamTimeoutError
from harness.measure.events import EventTimes
from harness.resilience.breaker import CircuitBreaker, Permit, Transition, counts_as_failure
from harness.resilience.config import PRESETS, ResilienceConfig, preset
from harness.resilience.retry import RetryBudget, retry_wait_s

__all__ = ["PRESETS", "CallResult", "ResilienceConfig", "ResiliencePolicy", "preset"]

T = TypeVar("T")
Outcome = Literal["ok", "fallback", "failed"]

# asyncio.timeout around an async attempt fires this long after the attempt's own
# timeout, so the attempt's own (more precise) timeout error wins when it has one.
ASYNC_TIMEOUT_GRACE_S = 0.25


@dataclass(slots=True)  # read-only; slots, not frozen: built once per request
class CallResult(Generic[T]):
    """How one request ended.

    ``error``/``status`` describe the last primary attempt that failed (``error`` is
    None when ``outcome == "ok"``; ``status`` is 200 for a returned attempt, None
    when the last attempt got no HTTP answer). ``attempts`` counts upstream
    attempts only: a breaker fast fail is not one. ``fallback_index`` says which
    fallback answered.
    """

    value: T | None
    outcome: Outcome
    attempts: int
    retry_wait_s: float
    breaker_state_at_start: str
    error: str | None
    status: int | None
    fallback_index: int | None = None


@dataclass(frozen=True)
class _Attempt:
    timeout_s: float


@dataclass(frozen=True)
class _Sleep:
    wait_s: float


@dataclass(frozen=True)
class _Fallback:
    index: int


_Step = _Attempt | _Sleep | _Fallback


@dataclass(slots=True)
class _Outcome(Generic[T]):
    value: T | None = None
    exc: Exception | None = None


@dataclass(slots=True)
class _Tally:
    """What one call has done so far; becomes the :class:`CallResult`."""

    breaker_state_at_start: str
    attempts: int = 0
    retry_wait_s: float = 0.0
    error: str | None = None
    status: int | None = None

    def failed(self, exc: Exception, *, attempted: bool) -> None:
        self.error = type(exc).__name__
        if attempted:
            self.status = exc.status if isinstance(exc, UpstreamError) else None

    def result(self, value: T | None, outcome: Outcome, index: int | None = None) -> CallResult[T]:
        error = None if outcome == "ok" else self.error
        return CallResult(
            value,
            outcome,
            self.attempts,
            self.retry_wait_s,
            self.breaker_state_at_start,
            error,
            self.status,
            index,
        )


class Waiting:
    """How many calls are sleeping out a retry delay right now, and the latest delay (s)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = 0
        self.last_s = 0.0

    def enter(self, wait_s: float) -> None:
        with self._lock:
            self.now += 1
            self.last_s = wait_s

    def leave(self) -> None:
        with self._lock:
            self.now -= 1


class ResiliencePolicy:
    """One breaker and one retry budget shared by every call of a run (thread-safe).

    ``clock`` returns run-relative seconds; it stamps breaker transitions,
    ``attempt_times_s`` and ``fast_fail_times_s`` and bounds each call's deadline.
    """

    def __init__(
        self,
        config: ResilienceConfig,
        *,
        clock: Callable[[], float],
        rng_seed: int = 0,
        exact_times: bool = True,
    ) -> None:
        self.config = config
        self.clock = clock
        self.breaker = CircuitBreaker(config.breaker, clock)
        self.budget = RetryBudget.from_config(config.retry)
        self._rng = random.Random(rng_seed)
        # exact_times=False: counts per second only, memory bounded by the run's duration
        # (--no-raw-records runs, the long-lived service); see harness.measure.events.
        self.attempts = EventTimes(exact=exact_times)
        self.fast_fails = EventTimes(exact=exact_times)
        self.waiting = Waiting()  # requests sleeping out a retry delay now (live display)

    @property
    def transitions(self) -> list[Transition]:
        return self.breaker.transitions

    @property
    def attempt_times_s(self) -> list[float]:
        """Clock time of every upstream attempt's start (a copy; needs ``exact_times``)."""
        return self.attempts.times()

    @property
    def fast_fail_times_s(self) -> list[float]:
        """Clock time of every call the open breaker refused (a copy; needs ``exact_times``)."""
        return self.fast_fails.times()

    def call_sync(
        self,
        attempt: Callable[[float], T],
        *,
        fallbacks: Sequence[Callable[[], T]] = (),
        sleep: Callable[[float], None] = time.sleep,
    ) -> CallResult[T]:
        """Run one request: ``attempt(timeout_s)`` with retries, then ``fallbacks`` in order."""

        def run(step: _Step) -> _Outcome[T]:
            if isinstance(step, _Sleep):
                self.waiting.enter(step.wait_s)
                try:
                    sleep(step.wait_s)
                finally:
                    self.waiting.leave()
                return _Outcome()
            if isinstance(step, _Attempt):
                return _capture(partial(attempt, step.timeout_s))
            return _capture(fallbacks[step.index])

        call: _Call[T] = _Call(self, len(fallbacks))  # see call_async
        plan = call.steps()
        try:
            step = next(plan)
            while True:
                step = plan.send(run(step))
        except StopIteration as stop:
            result: CallResult[T] = stop.value
            return result
        finally:
            plan.close()

    async def call_async(
        self,
        attempt: Callable[[float], Awaitable[T]],
        *,
        fallbacks: Sequence[Callable[[], Awaitable[T]]] = (),
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        self_bounded: bool = False,
    ) -> CallResult[T]:
        """The async twin of :meth:`call_sync`: same decisions, awaited steps.

        Each attempt is also bounded by ``asyncio.timeout(timeout_s + grace)``,
        which ends as :class:`UpstreamTimeoutError`, unless ``self_bounded`` says the
        attempt enforces ``timeout_s`` itself (an aiohttp request with a total timeout):
        a second timer per attempt costs ~10 µs of timer-heap work on the hot path.
        """
        # The hot path: the first attempt is awaited here, without the step machinery, by
        # the same _Call methods; a failure goes on in the step generator (_Call.after).
        # (Not _Call[T](...): subscripting a generic class at run time costs microseconds.)
        call: _Call[T] = _Call(self, len(fallbacks))
        begun = call.begin_attempt()
        if isinstance(begun, _Outcome):
            plan = call.after(begun)
            return await self._drive_async(plan, attempt, fallbacks, sleep, self_bounded)
        permit, timeout_s, started_s = begun
        try:
            if self_bounded:
                value = await attempt(timeout_s)
            else:
                async with asyncio.timeout(timeout_s + ASYNC_TIMEOUT_GRACE_S):
                    value = await attempt(timeout_s)
        except Exception as exc:  # see _capture
            outcome: _Outcome[T] = _Outcome(exc=_normalize(exc))
        except BaseException:  # cancelled mid-attempt: free the permit
            self.breaker.cancel(permit)
            raise
        else:
            call.end_attempt(permit, None, started_s)
            return call.tally.result(value, "ok")
        call.end_attempt(permit, outcome.exc, started_s)
        plan = call.after(outcome)
        return await self._drive_async(plan, attempt, fallbacks, sleep, self_bounded)

    async def _drive_async(
        self,
        plan: _Plan[T],
        attempt: Callable[[float], Awaitable[T]],
        fallbacks: Sequence[Callable[[], Awaitable[T]]],
        sleep: Callable[[float], Awaitable[object]],
        self_bounded: bool = False,
    ) -> CallResult[T]:
        async def run(step: _Step) -> _Outcome[T]:
            if isinstance(step, _Sleep):
                self.waiting.enter(step.wait_s)
                try:
                    await sleep(step.wait_s)
                finally:
                    self.waiting.leave()
                return _Outcome()
            if isinstance(step, _Attempt):
                limit_s = None if self_bounded else step.timeout_s + ASYNC_TIMEOUT_GRACE_S
                return await _capture_async(partial(attempt, step.timeout_s), limit_s)
            return await _capture_async(fallbacks[step.index], None)

        try:
            step = next(plan)
            while True:
                step = plan.send(await run(step))
        except StopIteration as stop:
            result: CallResult[T] = stop.value
            return result
        finally:
            plan.close()

    def guarded_once(self, attempt: Callable[[float], T]) -> T:
        """One upstream attempt outside the retry loop, e.g. a secondary path to the same
        upstream: it asks the breaker (raising :class:`CircuitOpenError` when refused), is
        counted in ``attempt_times_s`` and its outcome is recorded. Thread-safe, blocking."""
        permit = self.breaker.acquire()
        start_s = self.clock()
        if permit is None:
            self._note_fast_fail(start_s)
            raise CircuitOpenError("circuit open: the secondary path was refused")
        self._note_attempt(start_s)
        try:
            value = attempt(self.config.attempt_timeout_s)
        except Exception as exc:
            failed = counts_as_failure(exc)
            self.breaker.record(permit, success=not failed, duration_s=self.clock() - start_s)
            raise
        self.breaker.record(permit, success=True, duration_s=self.clock() - start_s)
        return value

    def _retry_wait(self, exc: Exception, attempts: int, deadline_at_s: float) -> float | None:
        """None when the call must stop: not retryable, out of attempts, past the
        deadline, breaker open (the retry would only fail fast) or budget empty."""
        wait_s = retry_wait_s(exc, attempts, self.config.retry, self._rng)
        if wait_s is None or self.clock() + wait_s >= deadline_at_s:
            return None
        if self.breaker.state == "open":
            return None
        return wait_s if self.budget.try_spend() else None

    def _note_attempt(self, now_s: float) -> None:
        self.attempts.add(now_s)

    def _note_fast_fail(self, now_s: float) -> None:
        self.fast_fails.add(now_s)


_Plan = Generator[_Step, _Outcome[T], CallResult[T]]


class _Call(Generic[T]):
    """One request's decisions: a generator of steps, sent back each step's outcome."""

    def __init__(self, policy: ResiliencePolicy, fallbacks: int) -> None:
        self._policy = policy
        self._fallbacks = fallbacks
        self.tally = _Tally(policy.breaker.state)
        self._deadline_at_s = policy.clock() + policy.config.deadline_s
        self._retry_spent = False  # a retry was taken from the budget and not yet sent

    def steps(self) -> _Plan[T]:
        outcome = yield from self._attempt()
        return (yield from self.after(outcome))

    def after(self, outcome: _Outcome[T]) -> _Plan[T]:
        """The rest of the call once an attempt has ended with ``outcome``."""
        tally = self.tally
        while True:
            if outcome.exc is None:
                return tally.result(outcome.value, "ok")
            wait_s = self._policy._retry_wait(outcome.exc, tally.attempts, self._deadline_at_s)
            if wait_s is None:
                break
            yield from self._backoff(wait_s)
            outcome = yield from self._attempt()
        return (yield from self._fallback_chain())

    def _backoff(self, wait_s: float) -> Generator[_Step, _Outcome[T], None]:
        """Wait before a retry the budget has paid for (refunded if it is never sent)."""
        self._retry_spent = True
        try:
            yield _Sleep(wait_s)
        except GeneratorExit:  # cancelled while waiting
            self._refund()
            raise
        self.tally.retry_wait_s += wait_s

    def _refund(self) -> None:
        if self._retry_spent:
            self._policy.budget.refund()
            self._retry_spent = False

    def _attempt(self) -> Generator[_Step, _Outcome[T], _Outcome[T]]:
        begun = self.begin_attempt()
        if isinstance(begun, _Outcome):
            return begun
        permit, timeout_s, started_s = begun
        try:
            outcome = yield _Attempt(timeout_s)
        except GeneratorExit:  # the driver was cancelled mid-attempt: free the permit
            self._policy.breaker.cancel(permit)
            raise
        self.end_attempt(permit, outcome.exc, started_s)
        return outcome

    def begin_attempt(self) -> tuple[Permit, float, float] | _Outcome[T]:
        """Before an attempt: (permit, timeout_s, start time), or the refusal's outcome."""
        policy, tally = self._policy, self.tally
        started_s = policy.clock()
        remaining_s = self._deadline_at_s - started_s
        if remaining_s <= 0:
            return self._refused(UpstreamTimeoutError("deadline passed before the attempt"))
        permit = policy.breaker.acquire()
        if permit is None:
            policy._note_fast_fail(policy.clock())
            return self._refused(CircuitOpenError("circuit breaker is open; call not made"))
        if tally.attempts == 0:
            policy.budget.on_first_attempt()
        self._retry_spent = False
        tally.attempts += 1
        policy._note_attempt(started_s)
        return permit, min(policy.config.attempt_timeout_s, remaining_s), started_s

    def end_attempt(self, permit: Permit, exc: Exception | None, started_s: float) -> None:
        """Tell the breaker how the attempt went and note its status and error."""
        policy = self._policy
        success = exc is None or not counts_as_failure(exc)
        policy.breaker.record(permit, success=success, duration_s=policy.clock() - started_s)
        if exc is None:
            self.tally.status = 200
        else:
            self.tally.failed(exc, attempted=True)

    def _refused(self, exc: Exception) -> _Outcome[T]:
        # The breaker opened (or the deadline came) during the backoff: the retry the
        # budget paid for is never sent, so the budget gets it back.
        self._refund()
        self.tally.failed(exc, attempted=False)
        return _Outcome(exc=exc)

    def _fallback_chain(self) -> Generator[_Step, _Outcome[T], CallResult[T]]:
        if self._policy.config.fallback:
            for index in range(self._fallbacks):
                outcome = yield _Fallback(index)
                if outcome.exc is None:
                    return self.tally.result(outcome.value, "fallback", index)
        return self.tally.result(None, "failed")


def _normalize(exc: Exception) -> Exception:
    """A bare TimeoutError (asyncio.timeout, socket) is an upstream timeout."""
    if isinstance(exc, TimeoutError):
        return UpstreamTimeoutError(str(exc) or "attempt timed out")
    return exc


def _capture(call: Callable[[], T]) -> _Outcome[T]:
    try:
        return _Outcome(call())
    except Exception as exc:  # every failure becomes an outcome; BaseException propagates
        return _Outcome(exc=_normalize(exc))


async def _capture_async(call: Callable[[], Awaitable[T]], limit_s: float | None) -> _Outcome[T]:
    try:
        async with asyncio.timeout(limit_s):
            return _Outcome(await call())
    except Exception as exc:  # see _capture
        return _Outcome(exc=_normalize(exc))
