"""EventTimes: every time, or counts per second only (memory bounded by the duration)."""

from __future__ import annotations

import threading
import time

import pytest

from harness.measure.events import EventTimes
from harness.measure.metrics import per_second
from harness.resilience.config import preset
from harness.resilience.policy import ResiliencePolicy

TIMES_S = [0.1, 0.9, 1.0, 2.5, 2.6, 2.7, 7.2]


@pytest.mark.parametrize("exact", [True, False])
def test_both_kinds_count_the_same_per_second(exact: bool) -> None:
    events = EventTimes(exact=exact)
    for t in TIMES_S:
        events.add(t)
    assert len(events) == 7
    assert events.per_second() == {0: 2, 1: 1, 2: 3, 7: 1}
    # the timeline's columns: past the end lands in the last row
    assert per_second(events, 4).tolist() == [2, 1, 3, 1]
    assert per_second(events, 4).tolist() == per_second(TIMES_S, 4).tolist()


def test_only_the_exact_kind_gives_every_time() -> None:
    exact, counted = EventTimes(exact=True), EventTimes(exact=False)
    for t in TIMES_S:
        exact.add(t)
        counted.add(t)
    assert exact.times() == TIMES_S
    with pytest.raises(ValueError, match="per second"):
        counted.times()


def test_counted_memory_follows_seconds_not_events() -> None:
    events = EventTimes(exact=False)
    for i in range(100_000):
        events.add(i / 100_000 * 3)  # 100,000 events in 3 seconds
    assert len(events) == 100_000 and len(events.per_second()) == 3


def test_adds_from_threads_are_all_counted() -> None:
    events = EventTimes(exact=False)

    def add_many() -> None:
        for _ in range(5_000):
            events.add(0.5)

    threads = [threading.Thread(target=add_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(events) == 40_000 == events.per_second()[0]


async def test_a_policy_without_exact_times_still_counts_its_attempts() -> None:
    policy = ResiliencePolicy(preset("none"), clock=time.perf_counter, exact_times=False)

    async def attempt(timeout_s: float) -> str:
        return "ok"

    for _ in range(5):
        await policy.call_async(attempt)
    assert len(policy.attempts) == 5 and len(policy.fast_fails) == 0
