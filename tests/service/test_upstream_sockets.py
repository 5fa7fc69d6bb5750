"""Threaded mode keeps its upstream sockets bounded by its workers, whatever the faults.

Starlette runs sync endpoints on anyio's worker threads, and anyio ends a thread idle for
10 s; the next burst runs on new threads. When each thread had a ``requests.Session`` of
its own, every ended thread left its pooled socket open: the count grew by about the
worker count per burst (157 → 255 → 353 with 100 workers). This runs three bursts with
an idle pause between them against a mock with mixed faults and counts the service
process's TCP connections to the mock after each.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import psutil
import pytest

from harness.run.embedded import EmbeddedMock
from harness.run.service_child import ServiceProcess

WORKERS = 16
BURSTS = 3
REQUESTS_PER_BURST = 240
CLIENTS = 3 * WORKERS
"""More clients than workers: every worker thread is busy during a burst."""
ANYIO_IDLE_S = 10.5
"""anyio ends a worker thread idle for 10 s: the next burst then meets new threads."""
SLACK = 2
FAULTS = {"503": 0.2, "500": 0.1, "429": 0.1}
BODY = {"ingredients": ["chicken", "rice"]}


@pytest.fixture(scope="module")
def faulty_mock() -> Iterator[EmbeddedMock]:
    with EmbeddedMock({"latency": 0.1, "faults": FAULTS, "seed": 7}) as mock:
        yield mock


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def upstream_sockets(pid: int, port: int) -> Counter[str]:
    """The process's TCP connections to ``port`` on loopback, counted by state."""
    connections = psutil.Process(pid).net_connections(kind="tcp")
    return Counter(c.status for c in connections if c.raddr and c.raddr.port == port)


async def burst(url: str) -> Counter[int]:
    """``REQUESTS_PER_BURST`` posts from ``CLIENTS`` at once (one in six a batch of three)."""
    limits = httpx.Limits(max_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        gate = asyncio.Semaphore(CLIENTS)

        async def one(n: int) -> int:
            async with gate:
                if n % 6 == 0:
                    return (
                        await client.post("/recipes/generate-batch", json=[BODY] * 3)
                    ).status_code
                return (await client.post("/recipes/generate", json=BODY)).status_code

        return Counter(await asyncio.gather(*(one(n) for n in range(REQUESTS_PER_BURST))))


def _settle(url: str, timeout_s: float = 10.0) -> None:
    """Wait until no generation is in flight (background tasks may still be ending)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if httpx.get(f"{url}/stats", timeout=5).json()["in_flight"] == 0:
            return
        time.sleep(0.05)
    raise AssertionError(f"generations still in flight after {timeout_s} s")


def test_threaded_upstream_sockets_stay_bounded_over_bursts(faulty_mock: EmbeddedMock) -> None:
    args = ["--mode", "threaded", "--workers", str(WORKERS), "--upstream", faulty_mock.url]
    # No breaker (it would open at these fault rates) and no retries: every request reaches
    # the mock, and a fault is a 502.
    args += ["--resilience", "none"]
    counts: list[int] = []
    with ServiceProcess(args) as service:
        assert service._proc is not None
        pid = service._proc.pid
        for n in range(BURSTS):
            if n:
                time.sleep(ANYIO_IDLE_S)
            statuses = asyncio.run(burst(service.url))
            _settle(service.url)
            states = upstream_sockets(pid, _port(faulty_mock.url))
            counts.append(sum(states.values()))
            assert set(statuses) <= {200, 502}, statuses
        faults = httpx.get(f"{faulty_mock.url}/_mock/stats", timeout=5).json()["by_status"]
    assert {"500", "503", "429"} <= set(faults)  # the faults did happen
    assert max(counts) <= WORKERS + SLACK, counts
    assert counts[-1] <= counts[0] + SLACK, counts
