"""The asyncio capacity limiter: cap, FIFO queue, overflow and cancellation."""

from __future__ import annotations

import asyncio

import pytest

from mock_gemini.capacity import CapacityFull, CapacityLimiter
from mock_gemini.config_error import MockConfigError


class Probe:
    """Counts holders inside the limiter; each holds until its gate opens."""

    def __init__(self, limiter: CapacityLimiter) -> None:
        self.limiter = limiter
        self.inside = 0
        self.peak = 0
        self.entered: list[int] = []

    async def hold(self, name: int, gate: asyncio.Event) -> None:
        async with self.limiter.slot():
            self.inside += 1
            self.peak = max(self.peak, self.inside)
            self.entered.append(name)
            await gate.wait()
            self.inside -= 1


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_at_most_max_concurrency_inside_and_the_rest_wait_in_order() -> None:
    limiter = CapacityLimiter(max_concurrency=2, max_queue=None)
    probe, gates = Probe(limiter), [asyncio.Event() for _ in range(5)]
    tasks = [asyncio.create_task(probe.hold(i, gates[i])) for i in range(5)]
    await settle()
    assert (probe.inside, limiter.in_use, limiter.queued) == (2, 2, 3)
    assert probe.entered == [0, 1]
    gates[1].set()
    await settle()
    assert probe.entered == [0, 1, 2]
    for gate in gates:
        gate.set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
    assert probe.entered == [0, 1, 2, 3, 4]
    assert probe.peak == 2
    assert (limiter.in_use, limiter.queued) == (0, 0)


async def test_full_queue_raises_at_once() -> None:
    limiter = CapacityLimiter(max_concurrency=2, max_queue=1)
    probe, gate = Probe(limiter), asyncio.Event()
    tasks = [asyncio.create_task(probe.hold(i, gate)) for i in range(3)]
    await settle()
    assert (limiter.in_use, limiter.queued) == (2, 1)
    for _ in range(3):
        with pytest.raises(CapacityFull):
            async with limiter.slot():
                pytest.fail("entered a full limiter")
    gate.set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
    assert probe.entered == [0, 1, 2]


async def test_zero_queue_rejects_as_soon_as_all_slots_are_busy() -> None:
    limiter = CapacityLimiter(max_concurrency=1, max_queue=0)
    async with limiter.slot():
        with pytest.raises(CapacityFull):
            async with limiter.slot():
                pass
    async with limiter.slot():
        assert limiter.in_use == 1


async def test_unlimited_lets_everyone_in_at_once() -> None:
    limiter = CapacityLimiter(max_concurrency=None, max_queue=None)
    probe, gate = Probe(limiter), asyncio.Event()
    tasks = [asyncio.create_task(probe.hold(i, gate)) for i in range(200)]
    await settle()
    assert probe.inside == 200
    assert limiter.queued == 0
    gate.set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
    assert limiter.in_use == 0


async def test_cancelled_waiter_leaves_the_queue_without_leaking_a_slot() -> None:
    limiter = CapacityLimiter(max_concurrency=1, max_queue=1)
    probe, gate = Probe(limiter), asyncio.Event()
    holder = asyncio.create_task(probe.hold(0, gate))
    waiter = asyncio.create_task(probe.hold(1, asyncio.Event()))
    await settle()
    assert limiter.queued == 1
    waiter.cancel()
    await settle()
    assert limiter.queued == 0
    gate.set()
    await asyncio.wait_for(holder, timeout=5)
    assert limiter.in_use == 0
    async with limiter.slot():
        assert limiter.in_use == 1


async def test_waiter_cancelled_just_as_it_is_handed_the_slot_passes_it_on() -> None:
    limiter = CapacityLimiter(max_concurrency=1, max_queue=None)
    probe, last_gate = Probe(limiter), asyncio.Event()
    first = limiter.slot()
    await first.__aenter__()
    unlucky = asyncio.create_task(probe.hold(1, asyncio.Event()))
    last = asyncio.create_task(probe.hold(2, last_gate))
    await settle()
    assert limiter.queued == 2
    # Release hands the slot to `unlucky` without yielding; cancel it before it runs.
    await first.__aexit__(None, None, None)
    unlucky.cancel()
    last_gate.set()
    await asyncio.wait_for(last, timeout=5)
    assert unlucky.cancelled()
    assert probe.entered == [2]
    assert (limiter.in_use, limiter.queued) == (0, 0)


async def test_error_in_body_releases_the_slot() -> None:
    limiter = CapacityLimiter(max_concurrency=1, max_queue=0)
    with pytest.raises(RuntimeError):
        async with limiter.slot():
            raise RuntimeError("boom")
    async with limiter.slot():
        assert limiter.in_use == 1


@pytest.mark.parametrize(
    ("max_concurrency", "max_queue", "fragment"),
    [
        pytest.param(0, None, "max_concurrency must be ≥ 1, got 0", id="zero-concurrency"),
        pytest.param(1, -1, "max_queue must be ≥ 0, got -1", id="negative-queue"),
    ],
)
def test_bad_limits_rejected(max_concurrency: int, max_queue: int | None, fragment: str) -> None:
    with pytest.raises(MockConfigError, match=fragment):
        CapacityLimiter(max_concurrency, max_queue)
