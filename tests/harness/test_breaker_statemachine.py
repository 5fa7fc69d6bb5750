"""The breaker against a plain reference model, driven by hypothesis' stateful testing.

Rules: acquire, record success/failure (fast or slow) for an outstanding permit,
advance the clock. After every step the state, every permit/deny decision and
the transition history must match the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from harness.resilience.breaker import BreakerConfig, CircuitBreaker, Permit


@dataclass
class Model:
    """The breaker's rules written as plainly as possible (no lock, no deque)."""

    cfg: BreakerConfig
    state: str = "closed"
    period: int = 0
    outcomes: tuple[tuple[bool, bool], ...] = ()  # (failed, slow), newest last
    opened_at_s: float = 0.0
    probes_out: int = 0
    probes_ok: int = 0
    history: list[tuple[float, str, str]] = field(default_factory=list)

    def look(self, now_s: float) -> str:
        if self.state == "open" and now_s - self.opened_at_s >= self.cfg.open_s:
            self.go("half_open", now_s)
        return self.state

    def acquire(self, now_s: float) -> int | None:
        state = self.look(now_s)
        if state == "closed":
            return self.period
        if state == "half_open" and self.probes_out < self.cfg.half_open_probes:
            self.probes_out += 1
            return self.period
        return None

    def record(self, period: int, failed: bool, duration_s: float, now_s: float) -> None:
        slow = self.cfg.slow_call_s is not None and duration_s >= self.cfg.slow_call_s
        if period != self.period:
            return
        if self.state == "half_open":
            self.probe(failed or slow, now_s)
            return
        self.outcomes = (*self.outcomes, (failed, slow))[-self.cfg.window_calls :]
        if self.should_open():
            self.go("open", now_s)

    def probe(self, bad: bool, now_s: float) -> None:
        if bad:
            self.go("open", now_s)
            return
        self.probes_ok += 1
        if self.probes_ok == self.cfg.half_open_probes:
            self.go("closed", now_s)

    def should_open(self) -> bool:
        n = len(self.outcomes)
        if n < self.cfg.minimum_calls:
            return False
        failures = sum(1 for failed, _ in self.outcomes if failed)
        slows = sum(1 for _, slow in self.outcomes if slow)
        if failures / n >= self.cfg.failure_rate_threshold:
            return True
        return self.cfg.slow_call_s is not None and slows / n >= self.cfg.slow_call_rate_threshold

    def go(self, state: str, now_s: float) -> None:
        self.history.append((now_s, self.state, state))
        self.state, self.period, self.outcomes = state, self.period + 1, ()
        self.opened_at_s, self.probes_out, self.probes_ok = now_s, 0, 0


@st.composite
def configs(draw: st.DrawFn) -> BreakerConfig:
    window = draw(st.integers(1, 6))
    return BreakerConfig(
        window_calls=window,
        minimum_calls=draw(st.integers(1, window)),
        failure_rate_threshold=draw(st.sampled_from([0.25, 0.5, 0.75, 1.0])),
        slow_call_s=draw(st.sampled_from([None, 1.0])),
        slow_call_rate_threshold=draw(st.sampled_from([0.5, 1.0])),
        open_s=draw(st.sampled_from([0.0, 1.0, 2.5])),
        half_open_probes=draw(st.integers(1, 3)),
    )


class BreakerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now_s = 0.0
        self.outstanding: list[tuple[Permit, int]] = []

    @initialize(cfg=configs())
    def start(self, cfg: BreakerConfig) -> None:
        self.breaker = CircuitBreaker(cfg, lambda: self.now_s)
        self.model = Model(cfg)

    @rule(dt_s=st.sampled_from([0.5, 1.0, 2.5]))
    def advance(self, dt_s: float) -> None:
        self.now_s += dt_s

    @rule()
    def acquire(self) -> None:
        permit = self.breaker.acquire()
        period = self.model.acquire(self.now_s)
        assert (permit is None) == (period is None)
        if permit is not None and period is not None:
            self.outstanding.append((permit, period))

    @precondition(lambda self: bool(self.outstanding))
    @rule(
        pick=st.integers(0, 100),
        success=st.booleans(),
        duration_s=st.sampled_from([0.1, 1.5]),
    )
    def record(self, pick: int, success: bool, duration_s: float) -> None:
        permit, period = self.outstanding.pop(pick % len(self.outstanding))
        self.breaker.record(permit, success=success, duration_s=duration_s)
        self.model.record(period, not success, duration_s, self.now_s)

    @invariant()
    def same_state_and_history(self) -> None:
        assert self.breaker.state == self.model.look(self.now_s)
        history = [(t.time_s, t.from_state, t.to_state) for t in self.breaker.transitions]
        assert history == self.model.history


BreakerMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestBreakerAgainstModel = BreakerMachine.TestCase
