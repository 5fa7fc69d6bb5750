"""The resilience layer end to end: every generator against the real mock on loopback.

One mock process serves the whole module; each test reconfigures it (PUT /_mock/config)
and resets it (POST /_mock/reset) right before its run clock starts, so the mock's
schedule windows (seconds since reset) line up with the run's clock. The mock's own
counters (GET /_mock/stats) are the witness of what reached the upstream.

A breaker cycle needs traffic after the outage, but a closed-loop workload drains the
moment the breaker opens (every remaining request fails fast in microseconds), so the
outage tests drive several small workloads through ONE RunContext (one policy, one
breaker), paced by the test: that is a generator's run with think time between batches.
"""

from __future__ import annotations

import importlib
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from harness.gemini import Target
from harness.generators import REGISTRY
from harness.generators.base import Generator, RequestRecord, RunContext, Workload
from harness.generators.common import GeneratorOptions
from harness.measure.metrics import check_invariant, is_fast_fail
from harness.resilience import ResilienceConfig, ResiliencePolicy, Transition
from harness.run.embedded import EmbeddedMock

MODES = [pytest.param(m, id=m) for m in ("sequential", "threaded", "async", "sdk") if m in REGISTRY]
ROUTE = "generateContent"
BASE_MOCK: dict[str, Any] = {
    "latency": 0.02, "faults": {}, "schedule": [], "rpm": None, "hang_max_s": 0.3, "seed": 0,
}  # fmt: skip


class MockControl:
    """The mock's control API: reconfigure, reset, read its counters."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()

    def configure(self, **changes: Any) -> None:
        """BASE_MOCK with ``changes``, then a reset (stats, quotas, schedule clock)."""
        resp = self.http.put(f"{self.url}/_mock/config", json=BASE_MOCK | changes, timeout=5)
        assert resp.status_code == 200, resp.text
        self.reset()

    def reset(self) -> None:
        self.http.post(f"{self.url}/_mock/reset", timeout=5).raise_for_status()

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = self.http.get(f"{self.url}/_mock/stats", timeout=5).json()
        return stats

    def by_status(self) -> dict[str, int]:
        """Generation requests the mock finished since the reset, by status."""
        counts: dict[str, int] = self.stats()["requests"].get(ROUTE, {})
        return counts

    def total(self) -> int:
        return sum(self.by_status().values())

    def settled_total(self, timeout_s: float = 3.0) -> int:
        """The total once nothing is in flight (a timed-out attempt ends on the mock later)."""
        give_up_s = time.monotonic() + timeout_s
        while self.stats()["in_flight"] and time.monotonic() < give_up_s:
            time.sleep(0.02)
        return self.total()


@pytest.fixture(scope="module")
def mock() -> Iterator[MockControl]:
    with EmbeddedMock(BASE_MOCK) as server:
        control = MockControl(server.url)
        yield control
        control.http.close()


def resilience(**table: Any) -> ResilienceConfig:
    return ResilienceConfig.from_mapping(table, "test")


@dataclass
class Run:
    """One generator, one policy and one clock, driven through one or more workloads."""

    generator: Generator
    ctx: RunContext
    cap: int
    records: list[RequestRecord] = field(default_factory=list)

    @property
    def policy(self) -> ResiliencePolicy:
        return self.ctx.policy

    def batch(self, users: int, requests_per_user: int = 1) -> list[RequestRecord]:
        """Send one closed-loop workload; its records must satisfy the invariant."""
        workload = Workload(users, requests_per_user)
        records = self.generator.run(workload, self.ctx)
        assert check_invariant(records, [p.request_id for p in workload]) == []
        self.records += records
        return records

    def paced(self, until: Callable[[], bool], pause_s: float = 0.03, limit_s: float = 8.0) -> None:
        """One request per user, a pause, again … until ``until()`` (bounded by ``limit_s``)."""
        give_up_s = self.ctx.clock() + limit_s
        while not until():
            assert self.ctx.clock() < give_up_s, f"gave up; transitions: {self.transitions}"
            self.batch(self.cap)
            time.sleep(pause_s)

    @property
    def transitions(self) -> list[Transition]:
        return self.policy.transitions


def start_run(
    mode: str, mock: MockControl, config: ResilienceConfig, users: int, secondary: bool = False
) -> Run:
    """A generator on the mock and a fresh policy whose clock starts now (reset the mock first)."""
    cap = 1 if mode == "sequential" else users
    target = Target(mock.url, "test-key", "gemini-2.5-flash")
    generator = REGISTRY[mode](target, GeneratorOptions(cap, secondary=secondary))
    if mode == "sdk":  # its first run would import google.genai (over 1 s) on the run clock
        importlib.import_module("google.genai")
    mock.reset()
    t0 = time.perf_counter()

    def clock() -> float:
        return time.perf_counter() - t0

    policy = ResiliencePolicy(config, clock=clock)
    return Run(generator, RunContext(clock, policy), cap)


@pytest.fixture
def runs() -> Iterator[list[Run]]:
    """Generators a test started; closed after it."""
    started: list[Run] = []
    yield started
    for run in started:
        run.generator.close()


def attempts_between(run: Run, start_s: float, end_s: float) -> int:
    return sum(start_s <= t <= end_s for t in run.policy.attempt_times_s)


# ---- the breaker during and after an outage ---------------------------------------------

OUTAGE_END_S = 1.2
PROBES = 2
BREAKER = {
    "window_calls": 10,
    "minimum_calls": 5,
    "failure_rate_threshold": 0.5,
    "open_s": 1.0,  # outlasts the fast-fail phase even when a run takes a while to start
    "half_open_probes": PROBES,
}
BREAKER_ONLY = resilience(retry={"max_attempts": 1}, breaker=BREAKER)


@pytest.mark.parametrize("mode", MODES)
def test_breaker_opens_in_outage_fails_fast_and_closes_after_probes(
    mode: str, mock: MockControl, runs: list[Run]
) -> None:
    mock.configure(schedule=[f"outage:0-{OUTAGE_END_S}:503"])
    users = 4
    run = start_run(mode, mock, BREAKER_ONLY, users)
    runs.append(run)

    # Outage: the breaker opens after minimum_calls failures (+ calls already in flight).
    first = run.batch(users, 5)
    opened = run.transitions[0]
    assert (opened.from_state, opened.to_state) == ("closed", "open"), run.transitions
    assert opened.reason.startswith("failure rate 100%")
    reached = len(run.policy.attempt_times_s)
    assert mock.by_status() == {"503": reached}
    assert BREAKER["minimum_calls"] <= reached <= BREAKER["minimum_calls"] + run.cap - 1
    assert sum(is_fast_fail(r) for r in first) == len(first) - reached
    assert {r.outcome for r in first} == {"fallback"}

    # Open: calls fail fast without reaching the mock.
    before = mock.total()
    fast = run.batch(users, 5)
    assert mock.total() == before
    assert run.transitions == [opened]
    assert all(is_fast_fail(r) and r.breaker_state_at_start == "open" for r in fast)
    assert statistics.median(r.latency_s for r in fast) < 0.001

    # After the outage: half-open probes succeed and close it.
    run.paced(until=lambda: run.policy.breaker.state == "closed")
    check_cycle(run)
    assert mock.settled_total() == len(run.policy.attempt_times_s)  # probes included


def check_cycle(run: Run) -> None:
    """open → (half_open → open)* → half_open → closed, reopening only inside the outage."""
    moves = [(t.from_state, t.to_state) for t in run.transitions]
    assert moves[0] == ("closed", "open") and moves[-2:] == [
        ("open", "half_open"),
        ("half_open", "closed"),
    ], moves
    for t in run.transitions[1:-2]:
        assert (t.to_state == "open") == (t.reason == "probe failed"), run.transitions
        if t.to_state == "open":  # a probe sent during the outage (its 503 may land late)
            assert t.time_s < OUTAGE_END_S + 0.2
    half_open, closed = run.transitions[-2:]
    assert closed.reason == f"{PROBES}/{PROBES} probes succeeded"
    assert closed.time_s >= OUTAGE_END_S - 0.05
    assert attempts_between(run, half_open.time_s, closed.time_s) == PROBES


# ---- 429: wait what the server asks, never hammer -----------------------------------------

RETRY_429 = resilience(
    deadline_s=5.0,
    retry={"max_attempts": 2, "base_s": 0.01, "budget_ratio": "none"},
    breaker={"enabled": False},
)
FAULT_RETRY_DELAY_S = 1.0  # the mock's RetryInfo on an injected or scheduled 429
WINDOW_429_S = 1.0


@pytest.mark.parametrize("mode", MODES)
def test_429_retry_info_is_waited_out(mode: str, mock: MockControl, runs: list[Run]) -> None:
    # Requests that arrive in the first second get a 429 asking for a 1 s wait (a
    # window that long: the sdk design takes a few tenths of a second to send at all).
    mock.configure(schedule=[f"outage:0-{WINDOW_429_S:g}:429"])
    run = start_run(mode, mock, RETRY_429, users=2 if mode == "sequential" else 6)
    runs.append(run)
    records = run.batch(run.cap if run.cap > 1 else 2)
    retried = [r for r in records if r.attempts == 2]
    assert retried and {r.outcome for r in records} == {"ok"}
    for r in retried:
        assert r.retry_wait_s == pytest.approx(FAULT_RETRY_DELAY_S)
        assert r.latency_s >= FAULT_RETRY_DELAY_S
    assert mock.by_status() == {"429": len(retried), "200": len(records)}
    # The mock saw nothing between the 429 window and a full retry delay after it.
    times = run.policy.attempt_times_s
    quiet = [t for t in times if WINDOW_429_S <= t < min(times) + FAULT_RETRY_DELAY_S]
    assert quiet == []


QUOTA_CASES = [
    pytest.param(True, 1, id="honoured"),
    pytest.param(False, 4, id="ignored-hammers"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("honour", "attempts_per_refusal"), QUOTA_CASES)
def test_a_quota_retry_delay_past_the_deadline_is_not_hammered(
    mode: str, honour: bool, attempts_per_refusal: int, mock: MockControl, runs: list[Run]
) -> None:
    # rpm=3: the 4th request in a minute gets a 429 whose honest retryDelay is ~60 s.
    mock.configure(rpm=3, latency=0.005)
    config = resilience(
        deadline_s=2.0,
        retry={"max_attempts": 4, "base_s": 0.01, "budget_ratio": "none",
               "honour_retry_info": honour},
        breaker={"enabled": False},
    )  # fmt: skip
    run = start_run(mode, mock, config, users=6)
    runs.append(run)
    records = run.batch(6)
    refused = [r for r in records if r.outcome != "ok"]
    assert len(refused) == 3
    assert {(r.error, r.status, r.attempts) for r in refused} == {
        ("RateLimitedError", 429, attempts_per_refusal)
    }
    assert mock.by_status() == {"200": 3, "429": 3 * attempts_per_refusal}


# ---- the retry budget in a total outage --------------------------------------------------

AMPLIFICATION_CASES = [
    pytest.param({"faults": {"503": 1.0}}, 0.1, id="fault-budget"),
    pytest.param({"faults": {"503": 1.0}}, "none", id="fault-no-budget"),
    pytest.param({"schedule": ["outage:0-60:503"]}, 0.1, id="outage-budget"),
    pytest.param({"schedule": ["outage:0-60:503"]}, "none", id="outage-no-budget"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("outage", "budget"), AMPLIFICATION_CASES)
def test_retry_budget_bounds_amplification_in_a_total_outage(
    mode: str, outage: dict[str, Any], budget: float | str, mock: MockControl, runs: list[Run]
) -> None:
    mock.configure(latency=0.002, **outage)
    config = resilience(
        retry={"max_attempts": 3, "base_s": 0.001, "cap_s": 0.001, "budget_ratio": budget},
        breaker={"enabled": False},
    )
    run = start_run(mode, mock, config, users=8)
    runs.append(run)
    records = run.batch(8, 5)
    attempts = sum(r.attempts for r in records)
    assert attempts == len(run.policy.attempt_times_s) == mock.by_status()["503"]
    assert {(r.outcome, r.error) for r in records} == {("fallback", "OverloadedError")}
    amplification = attempts / len(records)
    if budget == "none":
        assert amplification == 3.0
    else:
        assert 1.0 < amplification <= 1.2


# ---- the record invariant under any fault mix --------------------------------------------

EVERY_FAULT = ("429", "500", "503", "504", "hang", "reset", "malformed", "stream_error",
               "stream_cut")  # fmt: skip
FAULT_MIXES = [
    pytest.param({"faults": {"503": 0.2, "500": 0.1, "429": 0.1, "504": 0.1}}, id="statuses"),
    pytest.param({"faults": {"hang": 0.15, "reset": 0.15, "malformed": 0.15}}, id="transport"),
    pytest.param({"faults": {"stream_error": 0.2, "stream_cut": 0.2, "safety": 0.1}}, id="stream"),
    pytest.param(
        {"faults": dict.fromkeys(EVERY_FAULT, 0.08), "schedule": ["outage:0.1-0.3:503"]},
        id="everything",
    ),
]
MIX_POLICY = resilience(
    attempt_timeout_s=0.25,
    deadline_s=0.5,
    retry={"max_attempts": 3, "base_s": 0.01, "cap_s": 0.05},
    # Trips on the outage and on bad streaks, not on every mix's average failure rate.
    breaker={
        "window_calls": 10,
        "minimum_calls": 10,
        "failure_rate_threshold": 0.8,
        "open_s": 0.1,
        "half_open_probes": 2,
    },
)
OUTCOMES = {"ok", "fallback", "failed"}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("mix", FAULT_MIXES)
def test_no_request_is_lost_or_counted_twice_under_faults(
    mode: str, mix: dict[str, Any], mock: MockControl, runs: list[Run]
) -> None:
    mock.configure(latency=0.01, seed=7, hang_max_s=1.0, **mix)
    run = start_run(mode, mock, MIX_POLICY, users=6)
    runs.append(run)
    records = run.batch(6, 6)
    assert len(records) == 36 and len({r.request_id for r in records}) == 36
    for r in records:
        assert r.outcome in OUTCOMES and r.mode == mode
        assert 0 <= r.attempts <= 3 and r.start_s <= r.end_s
        assert (r.outcome == "ok") == (r.error is None), r
        if r.attempts == 0:
            assert r.error == "CircuitOpenError"
    attempts = sum(r.attempts for r in records)
    assert attempts == len(run.policy.attempt_times_s)
    # Nothing reached the mock that the policy did not count (no hidden re-send). An
    # attempt can time out before its request leaves (a busy machine), so not "==".
    assert 0 < mock.settled_total() <= attempts
    assert {r.outcome for r in records} <= {"ok", "fallback"}  # static recipes always answer


RESET_MODES = [
    pytest.param(m, id=m) for m in ("sequential", "threaded", "async", "sdk") if m in REGISTRY
]


@pytest.mark.parametrize("mode", RESET_MODES)
def test_a_connection_reset_is_one_failed_attempt_at_once(
    mode: str, mock: MockControl, runs: list[Run]
) -> None:
    mock.configure(latency=0.0, faults={"reset": 1.0})
    config = resilience(
        attempt_timeout_s=1.2, retry={"max_attempts": 1}, breaker={"enabled": False}
    )
    run = start_run(mode, mock, config, users=2)
    runs.append(run)
    records = run.batch(2)
    assert {(r.outcome, r.error, r.attempts) for r in records} == {
        ("fallback", "ConnectionFailedError", 1)
    }
    assert max(r.latency_s for r in records) < 0.5
    assert mock.settled_total() == 2  # no hidden re-send below the policy


def test_the_secondary_path_does_not_bypass_the_open_breaker(
    mock: MockControl, runs: list[Run]
) -> None:
    mock.configure(schedule=["outage:0-60:503"])
    run = start_run("async", mock, BREAKER_ONLY, users=4, secondary=True)
    runs.append(run)
    records = run.batch(4, 10)
    assert sum(is_fast_fail(r) for r in records) > 0
    assert mock.total() == len(run.policy.attempt_times_s)
